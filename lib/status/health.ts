// Pipeline health as the status app sees it: the consumer's counters plus how fresh the newest price is.
import type { ConsumerMetrics } from "../pipeline/metrics.ts";
import type { Tick } from "../tick.ts";
import { tickTime } from "../tick.ts";

/**
 * What the consumer reports about itself, read on every status request (so keep it cheap: plain fields).
 * @example const health = () => ({ metrics, lag: null, startedAt: Date.now() });
 */
export interface PipelineHealth {
  /** The consumer's live counters (the same object the batch processor mutates is fine). */
  metrics: ConsumerMetrics;
  /** Total consumer-group lag in messages, or null when not known (yet). */
  lag: number | null;
  /** Epoch milliseconds when the consumer started. */
  startedAt: number;
  /** True when the ticks are generated (demo mode), not CoinGecko's; the page then says so in a banner. */
  demo?: boolean;
}

/** How fresh the data is: "waiting" before the first tick, then "fresh" or "stale". */
export type FreshnessState = "waiting" | "fresh" | "stale";

/** Age of the newest tick and whether it is stale. */
export interface Freshness {
  state: FreshnessState;
  /** Source time (epoch ms) of the newest tick known, or null. */
  lastTickAt: number | null;
  /** now - lastTickAt, or null before the first tick. */
  ageMs: number | null;
  /** The data is stale past this age: twice the fetch interval. */
  staleAfterMs: number;
}

/**
 * Source time of the newest tick known, from the cached latest ticks and the consumer's own counter (which
 * also sees ticks the cache did not keep because it held a newer one); null when neither knows one.
 */
export function newestTickAt(latest: Tick[], metrics: ConsumerMetrics | null): number | null {
  let newest = metrics?.lastTickAt ?? null;
  for (const tick of latest) {
    const at = tickTime(tick);
    if (Number.isFinite(at) && (newest === null || at > newest)) newest = at;
  }
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
