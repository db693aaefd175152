import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { rangeLimit } from "../../candles.ts";
import { failureOptions, SinkError } from "../../errors.ts";
import { CANDLE_INTERVALS, type Candle, type HistoryStore, LATEST_MAX_PAIRS } from "../../ports.ts";
import { TICK_VERSION, type Tick } from "../../tick.ts";
import { classifySqliteError } from "./failures.ts";

/**
 * The SQLite dialect of supabase/migrations/*_price_history.sql, which stays the source of truth: a column
 * added there is added here too (and to {@link SQLITE_SCHEMA_VERSION}).
 *
 * - Numerics are REAL: an IEEE double, the very type of a JS number, so every price reads back as the same
 *   number (no decimal text to parse) and min/max compare numerically, which TEXT would get wrong.
 * - Times are epoch milliseconds (INTEGER): sortable, exact to the millisecond that tick identities use, and
 *   candle buckets are plain integer arithmetic.
 * - STRICT refuses a value of the wrong type instead of storing it as text; WITHOUT ROWID keeps rows in
 *   primary-key order, so the history of one pair is one contiguous range.
 * - No RLS or grants: a SQLite file has no roles; whoever can read the file reads everything.
 */
export const SQLITE_SCHEMA = `
create table if not exists price_history (
  asset             text    not null,
  currency          text    not null,
  price             real    not null check (price > 0),
  market_cap        real,
  volume_24h        real,
  change_24h_pct    real,
  source            text    not null default 'coingecko',
  source_updated_at integer not null,
  fetched_at        integer not null,
  inserted_at       integer not null default (cast(unixepoch('subsec') * 1000 as integer)),
  primary key (asset, currency, source_updated_at)
) strict, without rowid;
`;

/** `pragma user_version` of a file holding {@link SQLITE_SCHEMA}. */
export const SQLITE_SCHEMA_VERSION = 1;

/** Default wait for another connection's write lock before a statement fails with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** A price_history row as bun:sqlite returns it (a type, not an interface, so it binds as named parameters). */
export type SqliteRow = {
  asset: string;
  currency: string;
  price: number;
  market_cap: number | null;
  volume_24h: number | null;
  change_24h_pct: number | null;
  source: string;
  source_updated_at: number;
  fetched_at: number;
};

const COLUMNS =
  "asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at";

function rowToTick(row: SqliteRow): Tick {
  return {
    v: TICK_VERSION,
    asset: row.asset,
    currency: row.currency,
    price: row.price,
    marketCap: row.market_cap,
    volume24h: row.volume_24h,
    change24hPct: row.change_24h_pct,
    source: row.source,
    sourceUpdatedAt: new Date(row.source_updated_at).toISOString(),
    fetchedAt: new Date(row.fetched_at).toISOString(),
  };
}

/** Turns a tick into the SQLite row (times as epoch ms, numbers as REAL). */
export function tickToSqliteRow(tick: Tick): SqliteRow {
  return {
    asset: tick.asset,
    currency: tick.currency,
    price: tick.price,
    market_cap: tick.marketCap,
    volume_24h: tick.volume24h,
    change_24h_pct: tick.change24hPct,
    source: tick.source,
    source_updated_at: Date.parse(tick.sourceUpdatedAt),
    fetched_at: Date.parse(tick.fetchedAt),
  };
}

/**
 * History store in one SQLite file through bun:sqlite, for a zero-infrastructure single process: the same
 * table, identity and answers as Postgres (`insert ... on conflict do nothing`, one transaction per batch).
 * WAL lets readers (a status page, `sqlite3`) read while the consumer writes. Statements are synchronous and
 * block the event loop for their duration, which is fine for batches of hundreds of ticks. The directory is
 * created when missing; `:memory:` gives a store that lives as long as the process.
 * Throws {@link SinkError} when the file cannot be opened or is not ours.
 * @example const history = createSqliteHistory("data/belly.sqlite");
 */
export function createSqliteHistory(path: string): HistoryStore & { db: Database } {
  const fail = (what: string, cause: unknown) => {
    const failure = classifySqliteError(cause, path, SQLITE_BUSY_TIMEOUT_MS);
    return new SinkError("history", `${what} failed`, { cause, ...failureOptions(failure) });
  };

  let db: Database;
  try {
    if (path !== ":memory:" && path !== "" && !path.startsWith("file:"))
      mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { create: true, strict: true });
    db.run(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.run("pragma journal_mode = wal");
    // In WAL mode NORMAL only risks the last transactions on power loss, never corruption; the bus replays them.
    db.run("pragma synchronous = normal");
    db.transaction(() => {
      db.run(SQLITE_SCHEMA);
      db.run(`pragma user_version = ${SQLITE_SCHEMA_VERSION}`);
    })();
  } catch (cause) {
    throw fail(`open ${path}`, cause);
  }

  const insert: Statement<unknown, [SqliteRow]> = db.prepare(
    `insert into price_history (${COLUMNS})
     values ($asset, $currency, $price, $market_cap, $volume_24h, $change_24h_pct, $source, $source_updated_at, $fetched_at)
     on conflict (asset, currency, source_updated_at) do nothing`,
  );
  const insertAll = db.transaction((rows: SqliteRow[]) => {
    let inserted = 0;
    for (const row of rows) inserted += insert.run(row).changes;
    return inserted;
  });
  const recent = db.prepare<SqliteRow, [{ asset: string; currency: string; limit: number }]>(
    `select ${COLUMNS} from price_history where asset = $asset and currency = $currency
     order by source_updated_at desc limit $limit`,
  );
  const range = db.prepare<
    SqliteRow,
    [{ asset: string; currency: string; from: number; to: number; limit: number }]
  >(
    `select * from (
       select ${COLUMNS} from price_history
       where asset = $asset and currency = $currency and source_updated_at >= $from and source_updated_at < $to
       order by source_updated_at desc limit $limit
     ) order by source_updated_at`,
  );
  // Buckets start on UTC multiples of the width: floor(ms / width) * width, written so that times before
  // 1970 floor too (SQLite's % truncates towards zero). First and last price come from row numbers, since
  // SQLite has no ordered array_agg.
  const candles = db.prepare<
    { start: number; open: number; high: number; low: number; close: number; count: number },
    [{ asset: string; currency: string; from: number; to: number; width: number }]
  >(
    `select bucket as start,
            max(case when first = 1 then price end) as open,
            max(price) as high, min(price) as low,
            max(case when last = 1 then price end) as close,
            count(*) as count
     from (
       select price, bucket,
              row_number() over (partition by bucket order by source_updated_at) as first,
              row_number() over (partition by bucket order by source_updated_at desc) as last
       from (
         select price, source_updated_at,
                source_updated_at - ((source_updated_at % $width) + $width) % $width as bucket
         from price_history
         where asset = $asset and currency = $currency and source_updated_at >= $from and source_updated_at < $to
       )
     )
     group by bucket order by bucket`,
  );
  // SQLite takes the bare columns of a max() query from the row that holds the max, so each group gives its
  // newest tick whole. The table is stored in primary-key order, so the groups stream without a sort, but
  // every row is read once: fine for a single-process file, and the repair that calls it is rare.
  const latest = db.prepare<SqliteRow, [{ limit: number }]>(
    `select asset, currency, price, market_cap, volume_24h, change_24h_pct, source,
            max(source_updated_at) as source_updated_at, fetched_at
     from price_history group by asset, currency order by asset, currency limit $limit`,
  );
  const ping = db.prepare("select 1 from price_history limit 1");

  const window = (query: { from?: Date; to?: Date }) => ({
    from: query.from?.getTime() ?? 0,
    to: query.to?.getTime() ?? 8.64e15,
  });

  let closed = false;
  return {
    db,
    async upsert(ticks) {
      if (ticks.length === 0) return { inserted: 0 };
      try {
        return { inserted: insertAll(ticks.map(tickToSqliteRow)) };
      } catch (cause) {
        throw fail("insert into price_history", cause);
      }
    },
    async recent(asset, currency, limit = 100) {
      try {
        return recent.all({ asset, currency, limit }).map(rowToTick);
      } catch (cause) {
        throw fail("select from price_history", cause);
      }
    },
    async range(query) {
      try {
        const { asset, currency } = query;
        return range.all({ asset, currency, ...window(query), limit: rangeLimit(query) }).map(rowToTick);
      } catch (cause) {
        throw fail("select range from price_history", cause);
      }
    },
    async candles(query): Promise<Candle[]> {
      try {
        const { asset, currency } = query;
        const width = CANDLE_INTERVALS[query.interval];
        return candles
          .all({ asset, currency, ...window(query), width })
          .map((row) => ({ ...row, start: new Date(row.start).toISOString() }));
      } catch (cause) {
        throw fail("candles from price_history", cause);
      }
    },
    async latest() {
      try {
        return latest.all({ limit: LATEST_MAX_PAIRS }).map(rowToTick);
      } catch (cause) {
        throw fail("select latest from price_history", cause);
      }
    },
    async ping() {
      try {
        ping.get();
      } catch (cause) {
        throw fail("ping", cause);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const statement of [insert, recent, range, candles, latest, ping]) statement.finalize();
      // The last connection to close checkpoints the WAL into the main file and removes the -wal file.
      db.close();
    },
  };
}
