import { createCoinGeckoSource } from "../adapters/coingecko/source.ts";
import { createKafka, ensureTopics } from "../adapters/kafka/client.ts";
import { createKafkaPublisher } from "../adapters/kafka/publisher.ts";
import type { KafkaSettings } from "../adapters/kafka/settings.ts";
import { PARTITIONS_IN_FLIGHT } from "../adapters/kafka/subscriber.ts";
import { createMemoryCache } from "../adapters/memory/cache.ts";
import { createPostgresHistory } from "../adapters/postgres/history.ts";
import { createRedisCache } from "../adapters/redis/cache.ts";
import { createSqliteHistory } from "../adapters/sqlite/history.ts";
import { createSupabaseHistory } from "../adapters/supabase/history.ts";
import { createUpstashCache } from "../adapters/upstash/cache.ts";
import type { CacheSettings, Configs, HistorySettings } from "../config.ts";
import type { Logger } from "../log.ts";
import type { HistoryStore, LatestCache, PriceSource } from "../ports.ts";

/** Where the zero-setup mode keeps its history when neither Supabase nor Postgres is configured. */
export const SQLITE_PATH = "data/belly.sqlite";
/** The demo mode's own history file, so fake prices never mix with real ones. */
const DEMO_SQLITE_PATH = "data/demo.sqlite";

/** The CoinGecko source for the configured assets, currencies, plan and key. */
export function openSource(config: Configs["producer" | "dev"], log: Logger): PriceSource {
  return createCoinGeckoSource({
    ...config.coingecko,
    assets: config.assets,
    currencies: config.currencies,
    log: log.child({ component: "coingecko" }),
  });
}

/** Connects the Kafka publisher (which also writes dead letters), creating missing topics first. */
export async function openBus(kafkaConfig: KafkaSettings, log: Logger) {
  const kafka = createKafka(kafkaConfig, log.child({ component: "kafka" }));
  await ensureTopics(kafka, kafkaConfig, log);
  const publisher = await createKafkaPublisher(kafka, kafkaConfig);
  return { kafka, publisher };
}

/**
 * The history store the settings name: Supabase (writes with the service role key), Postgres, or a SQLite
 * file (under ./data by default, demo data in its own file).
 */
export function openHistory(
  settings: HistorySettings,
  log: Logger,
  options: { demo?: boolean } = {},
): HistoryStore {
  switch (settings.kind) {
    case "supabase":
      return createSupabaseHistory({
        url: settings.url,
        key: settings.writeKey,
        ...(settings.readKey ? { readKey: settings.readKey } : {}),
      });
    case "postgres":
      // One connection per batch in flight, and one for the status page's reads meanwhile.
      return createPostgresHistory(settings.url, { max: PARTITIONS_IN_FLIGHT + 1 });
    case "sqlite": {
      const path = settings.path ?? (options.demo ? DEMO_SQLITE_PATH : SQLITE_PATH);
      log.info("no SUPABASE_URL or DATABASE_URL: keeping the price history in SQLite", { path });
      return createSqliteHistory(path);
    }
  }
}

/** The latest cache the settings name: Upstash over REST, Bun's Redis client, or process memory. */
export function openCache(settings: CacheSettings, log: Logger): LatestCache {
  switch (settings.kind) {
    case "upstash":
      return createUpstashCache({ url: settings.url, token: settings.token });
    case "redis":
      return createRedisCache(settings.url);
    case "memory":
      log.info("no REDIS_URL: keeping the latest prices in memory");
      return createMemoryCache();
  }
}
