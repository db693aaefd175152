// Each store's adapter is imported only once the settings choose it: supabase-js, Upstash's client and
// bun:sqlite cost a Postgres-and-Redis consumer about 4 MiB of RSS and 50-100 ms of start for nothing.
import { PARTITIONS_IN_FLIGHT } from "../adapters/kafka/subscriber.ts";
import type { CacheSettings, HistorySettings } from "../config.ts";
import type { Logger } from "../log.ts";
import type { HistoryStore, LatestCache } from "../ports.ts";

/** Where the zero-setup mode keeps its history when neither Supabase nor Postgres is configured. */
export const SQLITE_PATH = "data/belly.sqlite";
/** The demo mode's own history file, so fake prices never mix with real ones. */
const DEMO_SQLITE_PATH = "data/demo.sqlite";

/**
 * The history store the settings name: Supabase (writes with the service role key), Postgres, or a SQLite
 * file (under ./data by default, demo data in its own file).
 */
export async function openHistory(
  settings: HistorySettings,
  log: Logger,
  options: { demo?: boolean } = {},
): Promise<HistoryStore> {
  switch (settings.kind) {
    case "supabase": {
      const { createSupabaseHistory } = await import("../adapters/supabase/history.ts");
      return createSupabaseHistory({
        url: settings.url,
        key: settings.writeKey,
        ...(settings.readKey ? { readKey: settings.readKey } : {}),
      });
    }
    case "postgres": {
      const { createPostgresHistory } = await import("../adapters/postgres/history.ts");
      // One connection per batch in flight, and one for the status page's reads meanwhile.
      return createPostgresHistory(settings.url, { max: PARTITIONS_IN_FLIGHT + 1 });
    }
    case "sqlite": {
      const { createSqliteHistory } = await import("../adapters/sqlite/history.ts");
      const path = settings.path ?? (options.demo ? DEMO_SQLITE_PATH : SQLITE_PATH);
      log.info("no SUPABASE_URL or DATABASE_URL: keeping the price history in SQLite", { path });
      return createSqliteHistory(path);
    }
  }
}

/** The latest cache the settings name: Upstash over REST, Bun's Redis client, or process memory. */
export async function openCache(settings: CacheSettings, log: Logger): Promise<LatestCache> {
  switch (settings.kind) {
    case "upstash": {
      const { createUpstashCache } = await import("../adapters/upstash/cache.ts");
      return createUpstashCache({ url: settings.url, token: settings.token });
    }
    case "redis": {
      const { createRedisCache } = await import("../adapters/redis/cache.ts");
      return createRedisCache(settings.url);
    }
    case "memory": {
      const { createMemoryCache } = await import("../adapters/memory/cache.ts");
      log.info("no REDIS_URL: keeping the latest prices in memory");
      return createMemoryCache();
    }
  }
}
