import { createKafka, ensureTopics } from "../bus/kafka-client.ts";
import { createKafkaPublisher } from "../bus/kafka-publisher.ts";
import { createMemoryCache } from "../cache/memory.ts";
import { createRedisCache } from "../cache/redis.ts";
import type { Config, KafkaConfig } from "../config.ts";
import { createPostgresHistory } from "../history/postgres.ts";
import type { Logger } from "../log.ts";
import type { HistoryStore, LatestCache, PriceSource } from "../ports.ts";
import { createCoinGeckoSource } from "../source/coingecko.ts";
import { exitConfig } from "./process.ts";

/** The Kafka settings, or exit 2 naming KAFKA_BROKERS when they are missing. */
export function requireKafka(config: Config): KafkaConfig {
  if (config.kafka) return config.kafka;
  return exitConfig("KAFKA_BROKERS: expected host:port[,host:port...] of your Kafka or Redpanda brokers");
}

/** The CoinGecko source for the configured assets, currencies, plan and key. */
export function openSource(config: Config, log: Logger): PriceSource {
  return createCoinGeckoSource({
    assets: config.assets,
    currencies: config.currencies,
    plan: config.coingecko.plan,
    apiKey: config.coingecko.apiKey,
    baseUrl: config.coingecko.baseUrl,
    timeoutMs: config.coingecko.timeoutMs,
    log: log.child({ component: "coingecko" }),
  });
}

/** Connects the Kafka publisher (which also writes dead letters), creating missing topics first. */
export async function openBus(kafkaConfig: KafkaConfig, log: Logger) {
  const kafka = createKafka(kafkaConfig, log.child({ component: "kafka" }));
  await ensureTopics(kafka, kafkaConfig, log);
  const publisher = await createKafkaPublisher(kafka, kafkaConfig);
  return { kafka, publisher };
}

/** The history store chosen by config: Postgres when DATABASE_URL is set. */
export function openHistory(config: Config): HistoryStore {
  if (config.databaseUrl) return createPostgresHistory(config.databaseUrl);
  return exitConfig("DATABASE_URL: expected postgres://user:password@host:port/db for the price history");
}

/** The latest cache chosen by config: Redis for redis:// URLs, process memory when REDIS_URL is unset. */
export function openCache(config: Config, log: Logger): LatestCache {
  if (!config.redis) {
    log.warn("REDIS_URL not set: the latest price is kept in memory only");
    return createMemoryCache();
  }
  if (config.redis.url.startsWith("redis")) return createRedisCache(config.redis.url);
  return exitConfig("REDIS_URL: https:// (Upstash REST) is not supported yet; use redis:// or rediss://");
}
