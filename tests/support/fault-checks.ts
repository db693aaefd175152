/**
 * What the fault tests share: ticks that each carry a new identity, what the history and the cache hold after
 * a fault, the check that every tick sent is stored exactly once, and the `[faults]` line of each recovery.
 */
import { expect } from "bun:test";
import type { RedisClient, SQL } from "bun";
import { latestKey } from "../../lib/adapters/redis/latest-script.ts";
import type { Tick } from "../../lib/tick.ts";
import { waitFor } from "./processes.ts";
import { parsePrometheus } from "./prometheus.ts";

/**
 * A source of usd ticks: each call returns `count` ticks of `asset`, oldest first, each `stepMs` after the
 * one before, so that no two calls ever share an identity (a shared identity would hide a lost tick).
 * @example const ticks = tickSeries(Date.parse("2026-11-01T00:00:00Z")); await publishRaw(kafka, topic, ticks(20));
 */
export function tickSeries(startMs: number, stepMs = 60_000): (count: number, asset?: string) => Tick[] {
  let next = startMs;
  return (count, asset = "beldex") =>
    Array.from({ length: count }, () => {
      next += stepMs;
      const at = new Date(next).toISOString();
      return {
        v: 1,
        asset,
        currency: "usd",
        price: 0.07 + (next % 997) / 1e6,
        marketCap: null,
        volume24h: null,
        change24hPct: null,
        sourceUpdatedAt: at,
        fetchedAt: at,
        source: "coingecko",
      } satisfies Tick;
    });
}

/** `asset@sourceUpdatedAt` of every usd row of price_history, or of `asset`'s rows only when given. */
export async function storedTicks(sql: SQL, asset?: string): Promise<Set<string>> {
  const rows: { asset: string; at: Date }[] =
    asset === undefined
      ? await sql`select asset, source_updated_at as at from price_history where currency = 'usd'`
      : await sql`select asset, source_updated_at as at from price_history
                  where currency = 'usd' and asset = ${asset}`;
  return new Set(rows.map((r) => `${r.asset}@${r.at.toISOString()}`));
}

/** Rows of price_history, or of `asset` only when given. */
export async function rowCount(sql: SQL, asset?: string): Promise<number> {
  const [row] =
    asset === undefined
      ? await sql`select count(*)::int as n from price_history`
      : await sql`select count(*)::int as n from price_history where asset = ${asset}`;
  return row.n;
}

/** sourceUpdatedAt of the latest usd tick of `asset` in the cache; null when there is none or Redis is down. */
export async function latestAt(redis: RedisClient, asset: string): Promise<string | null> {
  const raw = await redis.hget(latestKey(asset, "usd"), "tick").catch(() => null);
  return raw ? (JSON.parse(raw) as Tick).sourceUpdatedAt : null;
}

/**
 * Prints one `[faults]` line with the time from `sinceMs` (a performance.now() taken when the fault ended, or
 * at the moment `since` names) to now: the figures RELIABILITY.md quotes.
 */
export function report(fault: string, sinceMs: number, since = "the fault ended"): void {
  process.stderr.write(
    `[faults] ${fault}: recovered ${Math.round(performance.now() - sinceMs)} ms after ${since}\n`,
  );
}

/** Every tick of `sent` is among the `present` identities and the history holds `count` rows: none lost, none twice. */
export function expectAllStoredOnce(sent: Tick[], present: Set<string>, count: number): void {
  const missing = sent.filter((t) => !present.has(`${t.asset}@${t.sourceUpdatedAt}`));
  expect(missing).toEqual([]);
  expect(count).toBe(sent.length);
}

/** What /readyz and /metrics say about one dependency. */
export interface Probed {
  status: number;
  body: { failed: string[]; checks: Record<string, string>; down?: { dependency: string }[] };
  /** The value of `belly_dependency_up{dependency="<it>"}`. */
  up: number | undefined;
}

/** Asks /readyz and /metrics of the status page at `base` about `dependency`. */
export async function probes(base: string, dependency: string): Promise<Probed> {
  const ready = await fetch(`${base}readyz`);
  const body = (await ready.json()) as Probed["body"];
  const metrics = parsePrometheus(await (await fetch(`${base}metrics`)).text());
  const up = metrics
    .get("belly_dependency_up")
    ?.samples.find((sample) => sample.labels.dependency === dependency)?.value;
  return { status: ready.status, body, up };
}

/** Polls the probes until `wanted` holds, then returns what they said. */
export async function probesUntil(
  what: string,
  base: string,
  dependency: string,
  wanted: (probed: Probed) => boolean,
  timeoutMs: number,
): Promise<Probed> {
  let last: Probed | undefined;
  await waitFor(
    what,
    async () => {
      last = await probes(base, dependency);
      return wanted(last);
    },
    timeoutMs,
  );
  return last as Probed;
}
