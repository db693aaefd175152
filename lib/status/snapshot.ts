// One reading of the pipeline's state per request: the latest tick of every pair, the consumer's health and
// how fresh the newest price is. The page, /readyz, /metrics and the live stream all report from it, so they
// never disagree on whether the data is stale.
import { SinkError } from "../errors.ts";
import type { Tick } from "../tick.ts";
import { tickTime } from "../tick.ts";
import type { PipelineHealth, StatusContext } from "./deps.ts";

/** Age of the newest tick and whether it is stale: "waiting" before the first tick, then "fresh" or "stale". */
export interface Freshness {
  state: "waiting" | "fresh" | "stale";
  /** Source time (epoch ms) of the newest tick known, or null. */
  lastTickAt: number | null;
  /** now - lastTickAt, or null before the first tick. */
  ageMs: number | null;
  /** The data is stale past this age: twice the fetch interval. */
  staleAfterMs: number;
}

/** The pipeline's state at one instant, as every status answer reports it. */
export interface StatusSnapshot {
  /** Server time of the snapshot (epoch ms). */
  now: number;
  /** The latest tick of every cached pair, sorted by asset then currency; empty when the cache failed. */
  latest: Tick[];
  /** Whether reading the latest ticks failed (a SinkError), so that the page can say prices may be missing. */
  cacheFailed: boolean;
  health: PipelineHealth;
  freshness: Freshness;
}

/**
 * Source time of the newest tick known, from the cached latest ticks and whatever else knows one: the
 * consumer's counters (which also see ticks the cache did not keep because it held a newer one), or an earlier
 * freshness; null when none knows one.
 * @example newestTickAt(latest, health.metrics)
 */
export function newestTickAt(
  latest: Tick[],
  ...known: ({ lastTickAt: number | null } | null)[]
): number | null {
  let newest: number | null = null;
  for (const at of [...known.map((other) => other?.lastTickAt ?? null), ...latest.map(tickTime)])
    if (at !== null && Number.isFinite(at) && (newest === null || at > newest)) newest = at;
  return newest;
}

/**
 * Classifies the newest tick's age: stale when older than twice the fetch interval, which leaves a whole
 * missed poll of slack before anyone is told.
 * @example freshness(now - 5_000, now, 60_000) // { state: "fresh", ageMs: 5000, … }
 */
export function freshness(lastTickAt: number | null, now: number, fetchIntervalMs: number): Freshness {
  const staleAfterMs = 2 * fetchIntervalMs;
  if (lastTickAt === null) return { state: "waiting", lastTickAt, ageMs: null, staleAfterMs };
  // A source clock slightly ahead of ours must not read as a negative age.
  const ageMs = Math.max(0, now - lastTickAt);
  return { state: ageMs > staleAfterMs ? "stale" : "fresh", lastTickAt, ageMs, staleAfterMs };
}

function snapshotOf(
  ctx: StatusContext,
  latest: Tick[],
  cacheFailed: boolean,
  seen: Tick[] = [],
  earlier: Freshness | null = null,
): StatusSnapshot {
  const now = ctx.now();
  const health = ctx.health();
  const newest = newestTickAt([...latest, ...seen], health.metrics, earlier);
  return { now, latest, cacheFailed, health, freshness: freshness(newest, now, ctx.fetchIntervalMs) };
}

/**
 * Reads the latest tick of every pair once and takes the snapshot; a failing cache counts as no ticks (the
 * consumer's counter still knows the newest one). Other errors are thrown.
 * @example const snapshot = await takeSnapshot(ctx);
 */
export async function takeSnapshot(ctx: StatusContext): Promise<StatusSnapshot> {
  let latest: Tick[];
  try {
    const pairs = await ctx.cache.pairs();
    const ticks = await Promise.all(pairs.map(({ asset, currency }) => ctx.cache.get(asset, currency)));
    latest = ticks.filter((tick): tick is Tick => tick !== null);
  } catch (error) {
    if (!(error instanceof SinkError)) throw error;
    return snapshotOf(ctx, [], true);
  }
  return snapshotOf(ctx, latest, false);
}

/**
 * The snapshot a moment later without reading the cache again, as a live stream reports it: the clock and the
 * consumer's health are read anew, `seen` (ticks delivered since) counts, and the newest tick never goes back.
 * @example snapshot = laterSnapshot(ctx, snapshot, [tick]);
 */
export function laterSnapshot(
  ctx: StatusContext,
  earlier: StatusSnapshot,
  seen: Tick[] = [],
): StatusSnapshot {
  return snapshotOf(ctx, earlier.latest, earlier.cacheFailed, seen, earlier.freshness);
}
