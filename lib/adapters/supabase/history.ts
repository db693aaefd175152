import { createClient, PostgrestError, type SupabaseClient } from "@supabase/supabase-js";
import { candlesOf, RANGE_LIMIT, rangeLimit } from "../../candles.ts";
import { excerpt, failureOptions, SinkError } from "../../errors.ts";
import { type HistoryStore, LATEST_MAX_PAIRS, type RangeQuery } from "../../ports.ts";
import type { Tick } from "../../tick.ts";
import { rowToTick } from "../postgres/history.ts";
import type { Database, Tables, TablesInsert } from "./database.types.ts";
import { classifySupabase } from "./failures.ts";

const TABLE = "price_history";
const COLUMNS =
  "asset,currency,price,market_cap,volume_24h,change_24h_pct,source,source_updated_at,fetched_at";

/**
 * Rows asked for per read request. Supabase caps every response at 1000 rows (PostgREST's `db-max-rows`)
 * without saying so, so longer reads page by keyset; a project with a lower cap would end reads early.
 */
const SUPABASE_PAGE_ROWS = 1000;

/** Ticks per upsert request, so that bodies stay small and the returned rows stay under any row cap. */
const UPSERT_CHUNK = 500;

/** How to reach the Supabase Data API. */
interface SupabaseHistoryOptions {
  /** Project URL, e.g. https://abcd.supabase.co. */
  url: string;
  /** Key for writes (and reads, unless `readKey` is given): the service role key. */
  key: string;
  /** Key for reads, e.g. the anon key of a read-only API; default `key`. */
  readKey?: string;
  /** Replaces global fetch (tests, proxies); a plain function will do, Bun's `preconnect` is not needed. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Deadline of one request, its answer's body included, in milliseconds; default 15000. */
  timeoutMs?: number;
}

/** What supabase-js resolves with when a request failed (it never throws for HTTP or network errors). */
interface FailedResult {
  error: { message: string; details?: string | null; hint?: string | null; code?: string };
  status: number;
}

// Postgres renders numeric as a JSON number literal of its exact digits, and JSON.parse gives the same double
// as Number(text), so reads (rowToTick) keep what postgres.ts keeps. Writes send JSON numbers: PostgREST
// reads a number literal into numeric from its text, which is String(number), so nothing is cut either.
/** A price_history row as PostgREST sends it (the generated Row type): timestamps as ISO text, reused by paging. */
type JsonRow = Pick<
  Tables<"price_history">,
  | "asset"
  | "currency"
  | "price"
  | "market_cap"
  | "volume_24h"
  | "change_24h_pct"
  | "source"
  | "source_updated_at"
  | "fetched_at"
>;

/** The row a tick is stored as, checked against the generated Insert type. */
function insertRow(tick: Tick): TablesInsert<"price_history"> {
  return {
    asset: tick.asset,
    currency: tick.currency,
    price: tick.price,
    market_cap: tick.marketCap,
    volume_24h: tick.volume24h,
    change_24h_pct: tick.change24hPct,
    source: tick.source,
    source_updated_at: tick.sourceUpdatedAt,
    fetched_at: tick.fetchedAt,
  };
}

type FetchLike = NonNullable<SupabaseHistoryOptions["fetch"]>;

/**
 * `fetch` with one deadline for the whole exchange, the body included. supabase-js's own `db.timeout` is
 * cleared as soon as the headers arrive, so an answer whose body stalls (a link frozen mid-answer) would
 * leave an upsert waiting forever, and the batch with it, instead of failing and being retried. The signal
 * stays attached to the response, so reading the body aborts at the same deadline.
 */
function fetchWithDeadline(fetchImpl: FetchLike, timeoutMs: number): FetchLike {
  return (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return fetchImpl(input, { ...init, signal });
  };
}

function connect(url: string, key: string, options: SupabaseHistoryOptions): SupabaseClient<Database> {
  // Looked up per call, not captured, so that a fetch replaced after the store was made is still the one used.
  const base: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  return createClient<Database>(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // supabase-js only ever calls it, so the missing `preconnect` of Bun's fetch type does not matter.
    global: { fetch: fetchWithDeadline(base, options.timeoutMs ?? 15_000) as typeof fetch },
  });
}

/**
 * History store on Supabase's Data API through the official supabase-js client (PostgREST underneath).
 * upsert sends `Prefer: resolution=ignore-duplicates` and counts the rows PostgREST returns, which are only the
 * inserted ones. PostgREST cannot group, so candles fold the window's ticks here with candlesOf, bounded to the
 * 10,000 most recent ticks of the window (10 requests); when that bound cuts the window, the oldest candle,
 * which may be partial, is left out. PostgREST has no DISTINCT ON either, so latest walks the pairs one request
 * at a time down the primary key (see newestBelow): 1 + pairs + assets requests in a row, each one index
 * lookup however long the history, e.g. 10 round trips for 3 assets in 2 currencies; the time grows with the
 * pairs, so a history of thousands of pairs would take minutes (a migration-defined RPC would take one).
 * Every failure becomes a SinkError with a hint; keys never appear in it.
 * @example const history = createSupabaseHistory({ url: config.supabase.url, key: assertWriteKey(config.supabase) });
 */
export function createSupabaseHistory(options: SupabaseHistoryOptions): HistoryStore {
  const secrets = [options.key, options.readKey].filter((key): key is string => (key?.length ?? 0) >= 6);
  const writer = connect(options.url, options.key, options);
  const separateReader = options.readKey !== undefined && options.readKey !== options.key;
  const reader = separateReader ? connect(options.url, options.readKey as string, options) : writer;
  const readKeyName = separateReader ? "SUPABASE_ANON_KEY" : "SUPABASE_SERVICE_ROLE_KEY";

  const redact = (text: string | null | undefined) =>
    secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text ?? "");

  function failure(what: string, failed: FailedResult, write: boolean): SinkError {
    const code = failed.error.code ?? "";
    const cause = new PostgrestError({
      message: redact(failed.error.message),
      details: redact(failed.error.details),
      hint: redact(failed.error.hint),
      code,
    });
    const summary = excerpt(`HTTP ${failed.status}${code ? ` ${code}` : ""}: ${cause.message}`);
    const keyName = write ? "SUPABASE_SERVICE_ROLE_KEY" : readKeyName;
    const classified = classifySupabase({ ...failed.error, status: failed.status }, write, keyName);
    return new SinkError("history", `${what} failed (${summary})`, { cause, ...failureOptions(classified) });
  }

  /** The newest `limit` ticks of the window, newest first, paging by keyset past the 1000-row cap. */
  async function newest(query: RangeQuery, limit: number): Promise<Tick[]> {
    const ticks: Tick[] = [];
    let before = query.to?.toISOString();
    while (ticks.length < limit) {
      const want = Math.min(SUPABASE_PAGE_ROWS, limit - ticks.length);
      let request = reader
        .from(TABLE)
        .select(COLUMNS)
        .eq("asset", query.asset)
        .eq("currency", query.currency);
      if (query.from) request = request.gte("source_updated_at", query.from.toISOString());
      // The server's own timestamp text keeps microseconds that a JS Date would round away.
      if (before !== undefined) request = request.lt("source_updated_at", before);
      const result = await request.order("source_updated_at", { ascending: false }).limit(want);
      if (result.error) throw failure(`select from ${TABLE}`, result, false);
      const rows: JsonRow[] = result.data ?? [];
      ticks.push(...rows.map(rowToTick));
      const last = rows.at(-1);
      if (!last || rows.length < want) break;
      before = last.source_updated_at;
    }
    return ticks;
  }

  /**
   * The newest row of the last pair before `below` in primary-key order (asset, then currency), or of the last
   * pair of all when `below` is null; null when there is none. PostgREST cannot send the row comparison
   * `(asset, currency) < (a, c)`, and its `or=` form would make Postgres filter rather than seek, so the
   * step is split in two seeks: another currency of the same asset (`asset = a and currency < c`), else the
   * last pair of an earlier asset (`asset < a`). Either one is a backward scan of the primary key that stops
   * at its first row.
   */
  async function newestBelow(below: { asset: string; currency?: string } | null): Promise<JsonRow | null> {
    let request = reader.from(TABLE).select(COLUMNS);
    if (below?.currency !== undefined)
      request = request.eq("asset", below.asset).lt("currency", below.currency);
    else if (below) request = request.lt("asset", below.asset);
    const result = await request
      .order("asset", { ascending: false })
      .order("currency", { ascending: false })
      .order("source_updated_at", { ascending: false })
      .limit(1);
    if (result.error) throw failure(`select latest from ${TABLE}`, result, false);
    return result.data?.[0] ?? null;
  }

  return {
    async upsert(ticks) {
      let inserted = 0;
      // Chunks commit one by one; a failure midway leaves earlier chunks stored, which a replay skips.
      for (let start = 0; start < ticks.length; start += UPSERT_CHUNK) {
        const rows = ticks.slice(start, start + UPSERT_CHUNK).map(insertRow);
        const result = await writer
          .from(TABLE)
          .upsert(rows, { onConflict: "asset,currency,source_updated_at", ignoreDuplicates: true })
          .select("asset");
        if (result.error) throw failure(`upsert into ${TABLE}`, result, true);
        inserted += result.data?.length ?? 0;
      }
      return { inserted };
    },
    async recent(asset, currency, limit = 100) {
      return newest({ asset, currency }, Math.floor(limit));
    },
    async range(query) {
      return (await newest(query, rangeLimit(query))).reverse();
    },
    async candles(query) {
      const ticks = await newest(query, RANGE_LIMIT.max);
      const candles = candlesOf(ticks, query.interval);
      return ticks.length >= RANGE_LIMIT.max ? candles.slice(1) : candles;
    },
    async latest() {
      const found: Tick[] = [];
      let row = await newestBelow(null);
      while (row && found.length < LATEST_MAX_PAIRS) {
        found.push(rowToTick(row));
        const { asset, currency } = row;
        row = (await newestBelow({ asset, currency })) ?? (await newestBelow({ asset }));
      }
      return found.reverse();
    },
    async ping() {
      // A GET, not `select(..., { head: true })`: supabase-js reads a HEAD's body-less 404 as success, so a
      // missing table would pass. No retries, so that /readyz answers within one timeout.
      const clients = separateReader ? [writer, reader] : [writer];
      for (const client of clients) {
        const result = await client.from(TABLE).select("asset").limit(1).retry(false);
        if (result.error) throw failure("ping", result, client === writer);
      }
    },
    async close() {
      // supabase-js keeps no sockets for REST calls and no timers with autoRefreshToken off: nothing to release.
    },
  };
}
