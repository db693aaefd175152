import { SQL } from "bun";
import { rangeLimit } from "../../candles.ts";
import { failureOptions, SinkError } from "../../errors.ts";
import { CANDLE_INTERVALS, type HistoryStore, LATEST_MAX_PAIRS } from "../../ports.ts";
import { withTimeout } from "../../retry.ts";
import { TICK_VERSION, type Tick } from "../../tick.ts";
import { classifyPostgresError } from "./failures.ts";

/**
 * A row of price_history as read back: Bun.sql gives numerics as strings and timestamps as Dates; PostgREST
 * gives numerics as JSON numbers and timestamps as ISO text. rowToTick takes either.
 */
export interface PriceHistoryRow {
  asset: string;
  currency: string;
  price: string | number;
  market_cap: string | number | null;
  volume_24h: string | number | null;
  change_24h_pct: string | number | null;
  source: string;
  source_updated_at: Date | string;
  fetched_at: Date | string;
}

const num = (value: string | number | null) => (value === null ? null : Number(value));

/** Turns a price_history row back into a tick. */
export function rowToTick(row: PriceHistoryRow): Tick {
  return {
    v: TICK_VERSION,
    asset: row.asset,
    currency: row.currency,
    price: Number(row.price),
    marketCap: num(row.market_cap),
    volume24h: num(row.volume_24h),
    change24hPct: num(row.change_24h_pct),
    source: row.source,
    sourceUpdatedAt: new Date(row.source_updated_at).toISOString(),
    fetchedAt: new Date(row.fetched_at).toISOString(),
  };
}

// Numerics travel as text: a JS number sent as float8 is cut to 15 digits by Postgres' float8 -> numeric cast,
// while String() gives the shortest text that reads back as the same number.
const text = (value: number | null) => (value === null ? null : String(value));

/** Turns a tick into the price_history columns. */
export function tickToRow(tick: Tick) {
  return {
    asset: tick.asset,
    currency: tick.currency,
    price: text(tick.price),
    market_cap: text(tick.marketCap),
    volume_24h: text(tick.volume24h),
    change_24h_pct: text(tick.change24hPct),
    source: tick.source,
    source_updated_at: new Date(tick.sourceUpdatedAt),
    fetched_at: new Date(tick.fetchedAt),
  };
}

/** The form Date#toISOString gives, which Postgres stores as the same millisecond. */
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A tick time as the text Postgres reads: kept as it is when already in toISOString's form (what the producer
 * sends), else cut to the millisecond like `new Date()` does, so that a time written with another offset or
 * with microseconds is the same row as everywhere else (see tickIdentity).
 */
const timeText = (iso: string) => (CANONICAL_TIME.test(iso) ? iso : new Date(iso).toISOString());

/** A text field of COPY's text format: backslash, tab, newline and carriage return escaped. */
const copyText = (value: string) =>
  /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c] ?? c)
    : value;

/** A numeric field of COPY's text format: the shortest text that reads back as the same number (see `text`). */
const copyNumber = (value: number | null) => text(value) ?? "\\N";

/** One tick as a line of COPY's text format, in price_history's column order; times as in {@link timeText}. */
function copyLine(tick: Tick): string {
  return `${copyText(tick.asset)}\t${copyText(tick.currency)}\t${copyNumber(tick.price)}\t${copyNumber(tick.marketCap)}\t${copyNumber(tick.volume24h)}\t${copyNumber(tick.change24hPct)}\t${copyText(tick.source)}\t${timeText(tick.sourceUpdatedAt)}\t${timeText(tick.fetchedAt)}\n`;
}

/**
 * The batch as one JSON text, for `json_to_recordset`: one parameter and one statement text whatever the batch
 * size (a multi-row VALUES of n rows is a new prepared statement of 9n parameters for each n), built by one
 * native JSON.stringify where nine text arrays cost about 2.5 µs a tick more in the client
 * (BENCHMARKS.md). A JSON number is the shortest text that reads back as the same double, and the server reads
 * it into numeric exactly. Times not in toISOString's form are cut to the millisecond first (see timeText).
 */
function batchJson(ticks: Tick[]): string {
  let copied: Tick[] | undefined;
  for (let i = 0; i < ticks.length; i++) {
    const tick = ticks[i] as Tick;
    if (CANONICAL_TIME.test(tick.sourceUpdatedAt) && CANONICAL_TIME.test(tick.fetchedAt)) continue;
    copied ??= ticks.slice();
    copied[i] = {
      ...tick,
      sourceUpdatedAt: timeText(tick.sourceUpdatedAt),
      fetchedAt: timeText(tick.fetchedAt),
    };
  }
  return JSON.stringify(copied ?? ticks);
}

/**
 * A batch of new ticks by COPY, the fastest way in: about 1.4 times the rows a second of INSERT ... SELECT
 * (BENCHMARKS.md). COPY has no ON CONFLICT, so a tick already stored fails it whole (nothing of it is kept)
 * with a unique violation, and the caller writes the batch again with {@link insertSkippingConflicts}.
 * Resolves to the rows stored.
 */
async function copyBatch(sql: SQL, ticks: Tick[]): Promise<number> {
  let text = "";
  for (const tick of ticks) text += copyLine(tick);
  const query = sql`copy price_history
    (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
    from stdin`;
  const writer = query.writable().getWriter();
  try {
    await writer.write(text);
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  }
  await writer.close();
  return (await query).count;
}

/**
 * A batch into price_history by INSERT ... SELECT FROM json_to_recordset ... ON CONFLICT DO NOTHING: the ticks
 * already stored are skipped. Resolves to the command tag, whose row count is the rows inserted.
 */
function insertSkippingConflicts(sql: SQL, batch: string) {
  // `::text::json`: a string bound as json would be sent as a JSON string, not as the array it holds.
  return sql`
    insert into price_history
      (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
    select asset, currency, price, "marketCap", "volume24h", "change24hPct", source, "sourceUpdatedAt", "fetchedAt"
    from json_to_recordset(${batch}::text::json) as batch(
      asset text, currency text, price numeric, "marketCap" numeric, "volume24h" numeric,
      "change24hPct" numeric, source text, "sourceUpdatedAt" timestamptz, "fetchedAt" timestamptz)
    on conflict (asset, currency, source_updated_at) do nothing`;
}

/** A duplicate key: the insert met a row already stored (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  return (error as { errno?: unknown } | null)?.errno === "23505";
}

function sinkError(what: string, cause: unknown): SinkError {
  return new SinkError("history", `${what} failed`, {
    cause,
    ...failureOptions(classifyPostgresError(cause)),
  });
}

/** Deadline of one query: a frozen link becomes an error the consumer retries, well within its session. */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * History store on Postgres through Bun.sql: one COPY per batch of new ticks, or INSERT ... SELECT FROM
 * json_to_recordset(the batch) ON CONFLICT DO NOTHING once a batch met a stored tick (pool of `max` connections, default 4), each
 * call bounded by a 10 s deadline after which the connection pool is replaced.
 * @example const history = createPostgresHistory("postgres://belly:belly@127.0.0.1:15432/belly");
 */
export function createPostgresHistory(
  url: string,
  options: { max?: number } = {},
): HistoryStore & {
  sql: SQL;
} {
  const open = () => new SQL({ url, max: options.max ?? 4, idleTimeout: 30, connectionTimeout: 10 });
  let sql = open();
  // Set by a batch that met a stored tick (a replay after a restart or a rebalance), until a batch of new ticks
  // only: while it is set, each batch goes straight to the insert that skips conflicts, not COPY first.
  let conflictsLikely = false;
  const store: HistoryStore = {
    async upsert(ticks) {
      if (ticks.length === 0) return { inserted: 0 };
      try {
        if (!conflictsLikely) {
          try {
            return { inserted: await copyBatch(sql, ticks) };
          } catch (cause) {
            if (!isUniqueViolation(cause)) throw cause;
            conflictsLikely = true;
          }
        }
        const { count } = await insertSkippingConflicts(sql, batchJson(ticks));
        // A batch of new ticks only: the replay (if it was one) is over, and COPY is back.
        if (count === ticks.length) conflictsLikely = false;
        return { inserted: count };
      } catch (cause) {
        throw sinkError("insert into price_history", cause);
      }
    },
    async recent(asset, currency, limit = 100) {
      try {
        const rows: PriceHistoryRow[] = await sql`
          select * from price_history where asset = ${asset} and currency = ${currency}
          order by source_updated_at desc limit ${limit}`;
        return rows.map(rowToTick);
      } catch (cause) {
        throw sinkError("select from price_history", cause);
      }
    },
    async range(query) {
      const from = query.from ?? new Date(0);
      const to = query.to ?? new Date(8.64e15);
      try {
        const rows: PriceHistoryRow[] = await sql`
          select * from (
            select * from price_history
            where asset = ${query.asset} and currency = ${query.currency}
              and source_updated_at >= ${from} and source_updated_at < ${to}
            order by source_updated_at desc limit ${rangeLimit(query)}
          ) newest order by source_updated_at`;
        return rows.map(rowToTick);
      } catch (cause) {
        throw sinkError("select range from price_history", cause);
      }
    },
    async candles(query) {
      const from = query.from ?? new Date(0);
      const to = query.to ?? new Date(8.64e15);
      const width = `${CANDLE_INTERVALS[query.interval] / 1000} seconds`;
      try {
        const rows: { start: Date; open: string; high: string; low: string; close: string; count: number }[] =
          await sql`
          select date_bin(${width}::interval, source_updated_at, timestamptz '1970-01-01 00:00:00+00') as start,
                 (array_agg(price order by source_updated_at))[1] as open,
                 max(price) as high, min(price) as low,
                 (array_agg(price order by source_updated_at desc))[1] as close,
                 count(*)::int as count
          from price_history
          where asset = ${query.asset} and currency = ${query.currency}
            and source_updated_at >= ${from} and source_updated_at < ${to}
          group by 1 order by 1`;
        return rows.map((row) => ({
          start: new Date(row.start).toISOString(),
          open: Number(row.open),
          high: Number(row.high),
          low: Number(row.low),
          close: Number(row.close),
          count: row.count,
        }));
      } catch (cause) {
        throw sinkError("candles from price_history", cause);
      }
    },
    async latest() {
      try {
        // A skip scan: each step is one backward descent of the primary key (asset, currency,
        // source_updated_at) to the newest row of the pair below the last one found, so the cost is one index
        // lookup per pair however long the history grows. `select distinct on (asset, currency)` gives the
        // same rows but reads every row of the table to do it.
        const rows: PriceHistoryRow[] = await sql`
          with recursive newest as (
            (select * from price_history
             order by asset desc, currency desc, source_updated_at desc limit 1)
            union all
            select below.* from newest
            cross join lateral (
              select * from price_history h
              where (h.asset, h.currency) < (newest.asset, newest.currency)
              order by h.asset desc, h.currency desc, h.source_updated_at desc limit 1
            ) below
          )
          select * from (select * from newest limit ${LATEST_MAX_PAIRS}) found order by asset, currency`;
        return rows.map(rowToTick);
      } catch (cause) {
        throw sinkError("select latest from price_history", cause);
      }
    },
    async ping() {
      try {
        await sql`select 1 from price_history limit 1`;
      } catch (cause) {
        throw sinkError("ping", cause);
      }
    },
    async close() {
      await sql.close({ timeout: 5 });
    },
  };
  // A frozen link would hang a query for ever: past the deadline the pool is replaced, and the caller's
  // retry runs on fresh connections (a duplicate insert is absorbed by ON CONFLICT DO NOTHING).
  const bounded = Object.fromEntries(
    Object.entries(store).map(([name, method]) => [
      name,
      name === "close"
        ? method
        : async (...args: unknown[]) => {
            const used = sql;
            try {
              return await withTimeout(
                QUERY_TIMEOUT_MS,
                () => (method as (...a: unknown[]) => Promise<unknown>)(...args),
                () =>
                  sinkError(
                    `${name} (no answer within ${QUERY_TIMEOUT_MS} ms)`,
                    new Error("Postgres timeout"),
                  ),
              );
            } catch (error) {
              if (used === sql && /no answer within/.test(String((error as Error)?.message))) {
                sql = open();
                void used.close({ timeout: 0 }).catch(() => {});
              }
              throw error;
            }
          },
    ]),
  ) as unknown as HistoryStore;
  // A getter, so that tests and benchmarks reach the pool in use after a replacement.
  return Object.defineProperty(bounded, "sql", { get: () => sql, enumerable: true }) as HistoryStore & {
    sql: SQL;
  };
}

// The migrations moved to migrate.ts; kept importable from here, where every caller found them.
export { migratePostgres } from "./migrate.ts";
