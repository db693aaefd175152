import { createCoinGeckoSource } from "../adapters/coingecko/source.ts";
import { createKafka, ensureTopics } from "../adapters/kafka/client.ts";
import { createKafkaPublisher } from "../adapters/kafka/publisher.ts";
import { createMemoryCache } from "../adapters/memory/cache.ts";
import { createPostgresHistory } from "../adapters/postgres/history.ts";
import { createRedisCache } from "../adapters/redis/cache.ts";
import { createSqliteHistory } from "../adapters/sqlite/history.ts";
import { createSupabaseHistory } from "../adapters/supabase/history.ts";
import { assertWriteKey } from "../adapters/supabase/keys.ts";
import { createUpstashCache } from "../adapters/upstash/cache.ts";
import type { Config, KafkaConfig } from "../config.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HistoryStore, LatestCache, PriceSource } from "../ports.ts";
import { exitConfig } from "./process.ts";

/** Where the zero-setup mode keeps its history when neither Supabase nor Postgres is configured. */
export const SQLITE_PATH = "data/belly.sqlite";
/** The demo mode's own history file, so fake prices never mix with real ones. */
export const DEMO_SQLITE_PATH = "data/demo.sqlite";

/** The Kafka settings, or exit 2 naming KAFKA_BROKERS when they are missing. */
export function requireKafka(config: Config): KafkaConfig {
  if (config.kafka) return config.kafka;
  return exitConfig(
    "KAFKA_BROKERS: expected host:port[,host:port...] of your Kafka or Redpanda brokers (or use `bun run dev` to run everything in one process without Kafka)",
  );
}

/** The CoinGecko source for the configured assets, currencies, plan and key (`baseUrl` overrides, for --demo). */
export function openSource(config: Config, log: Logger, demo?: { baseUrl: string }): PriceSource {
  return createCoinGeckoSource({
    assets: config.assets,
    currencies: config.currencies,
    plan: demo ? "public" : config.coingecko.plan,
    apiKey: demo ? null : config.coingecko.apiKey,
    baseUrl: demo?.baseUrl ?? config.coingecko.baseUrl,
    timeoutMs: config.coingecko.timeoutMs,
    log: log.child({ component: "coingecko" }),
    ...(demo ? { sourceName: "demo" } : {}),
  });
}

/** Connects the Kafka publisher (which also writes dead letters), creating missing topics first. */
export async function openBus(kafkaConfig: KafkaConfig, log: Logger) {
  const kafka = createKafka(kafkaConfig, log.child({ component: "kafka" }));
  await ensureTopics(kafka, kafkaConfig, log);
  const publisher = await createKafkaPublisher(kafka, kafkaConfig);
  return { kafka, publisher };
}

/**
 * The history store chosen by config: Supabase when SUPABASE_URL is set (writes only with the service role
 * key), Postgres when DATABASE_URL is set, else a SQLite file under ./data.
 */
export function openHistory(config: Config, log: Logger, options: { demo?: boolean } = {}): HistoryStore {
  if (config.supabase) {
    let key: string;
    try {
      key = assertWriteKey(config.supabase);
    } catch (error) {
      if (error instanceof ConfigError) return exitConfig(error.problems.join("; "));
      throw error;
    }
    return createSupabaseHistory({
      url: config.supabase.url,
      key,
      ...(config.supabase.anonKey ? { readKey: config.supabase.anonKey } : {}),
    });
  }
  if (config.databaseUrl) return createPostgresHistory(config.databaseUrl);
  const path = config.sqlitePath ?? (options.demo ? DEMO_SQLITE_PATH : SQLITE_PATH);
  log.info("no SUPABASE_URL or DATABASE_URL: keeping the price history in SQLite", { path });
  return createSqliteHistory(path);
}

/**
 * The latest cache chosen by config: Upstash for an https:// REDIS_URL with REDIS_TOKEN, Bun's Redis client
 * for redis:// and rediss://, process memory when REDIS_URL is unset.
 */
export function openCache(config: Config, log: Logger): LatestCache {
  if (!config.redis) {
    log.info("no REDIS_URL: keeping the latest prices in memory");
    return createMemoryCache();
  }
  if (config.redis.url.startsWith("http")) {
    if (!config.redis.token) return exitConfig("REDIS_TOKEN: expected the Upstash REST token for REDIS_URL");
    return createUpstashCache({ url: config.redis.url, token: config.redis.token });
  }
  return createRedisCache(config.redis.url);
}
