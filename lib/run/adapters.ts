import { createCoinGeckoChart } from "../adapters/coingecko/chart.ts";
import { COINGECKO_CALLS_PER_MINUTE, coingeckoRoot } from "../adapters/coingecko/settings.ts";
import { createCoinGeckoSource, pollRequestCount } from "../adapters/coingecko/source.ts";
import { createCoinGeckoStream } from "../adapters/coingecko/stream-source.ts";
import { createKafka, ensureTopics } from "../adapters/kafka/client.ts";
import { createKafkaPublisher } from "../adapters/kafka/publisher.ts";
import type { KafkaSettings } from "../adapters/kafka/settings.ts";
import { PARTITIONS_IN_FLIGHT } from "../adapters/kafka/subscriber.ts";
import { createTopicTail } from "../adapters/kafka/topic-tail.ts";
import { createMemoryCache } from "../adapters/memory/cache.ts";
import { createPostgresHistory } from "../adapters/postgres/history.ts";
import { createRedisCache } from "../adapters/redis/cache.ts";
import { createSqliteHistory } from "../adapters/sqlite/history.ts";
import { createSupabaseHistory } from "../adapters/supabase/history.ts";
import { createUpstashCache } from "../adapters/upstash/cache.ts";
import type { CacheSettings, Configs, HistorySettings } from "../config.ts";
import type { Logger } from "../log.ts";
import type {
  ChartSource,
  HistoryStore,
  LatestCache,
  PriceSource,
  PriceStream,
  PublishedTail,
} from "../ports.ts";
import { createRequestBudget, type RequestBudget } from "../request-budget.ts";

/** Where the zero-setup mode keeps its history when neither Supabase nor Postgres is configured. */
export const SQLITE_PATH = "data/belly.sqlite";
/** The demo mode's own history file, so fake prices never mix with real ones. */
const DEMO_SQLITE_PATH = "data/demo.sqlite";

/**
 * The process's one CoinGecko request budget: COINGECKO_CALLS_PER_MINUTE, or the plan's default. When the
 * process polls (`polls`, default true) it keeps one call per /simple/price chunk of a poll free of backfill,
 * so that the poll never waits behind it; `--backfill` alone may spend them all.
 */
export function openBudget(config: Configs["producer" | "dev"], polls = true): RequestBudget {
  const { plan, baseUrl } = config.coingecko;
  return createRequestBudget({
    callsPerMinute: config.coingecko.callsPerMinute ?? COINGECKO_CALLS_PER_MINUTE[plan],
    reserveForLive: polls
      ? pollRequestCount(coingeckoRoot(plan, baseUrl), config.assets, config.currencies)
      : 0,
  });
}

/** CoinGecko's price history (market_chart/range), spending the poll's `budget` behind the poll. */
export function openChart(config: Configs["producer"], log: Logger, budget: RequestBudget): ChartSource {
  return createCoinGeckoChart({
    ...config.coingecko,
    log: log.child({ component: "coingecko-chart" }),
    budget,
  });
}

/** The CoinGecko source for the configured assets, currencies, plan and key, spending `budget` (default its own). */
export function openSource(
  config: Configs["producer" | "dev"],
  log: Logger,
  budget: RequestBudget = openBudget(config),
): PriceSource {
  return createCoinGeckoSource({
    ...config.coingecko,
    assets: config.assets,
    currencies: config.currencies,
    log: log.child({ component: "coingecko" }),
    budget,
  });
}

/** CoinGecko's price stream when COINGECKO_STREAM is on (pro plan, so a key), else null. */
export function openStream(config: Configs["producer" | "dev"], log: Logger): PriceStream | null {
  if (!config.stream) return null;
  return createCoinGeckoStream({
    url: config.stream.url,
    apiKey: config.coingecko.apiKey ?? "",
    assets: config.assets,
    currencies: config.currencies,
    log: log.child({ component: "coingecko-stream" }),
  });
}

/** Connects the Kafka publisher (which also writes dead letters), creating missing topics first. */
export async function openBus(kafkaConfig: KafkaSettings, log: Logger) {
  const kafka = createKafka(kafkaConfig, log.child({ component: "kafka" }));
  await ensureTopics(kafka, kafkaConfig, log);
  const publisher = await createKafkaPublisher(kafka, kafkaConfig);
  return { kafka, publisher };
}

/** The topic's tail (newest tick per pair) through the producer's Kafka client. */
export function openTail(kafka: ReturnType<typeof createKafka>, settings: KafkaSettings): PublishedTail {
  return createTopicTail(kafka, settings);
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
