import type { Tick } from "../tick.ts";
import { tickKey, tickTime } from "../tick.ts";
import type { BackfillJob } from "./backfill.ts";

const HOUR_MS = 3_600_000;

/** Finds holes in each pair's ticks: between the topic's newest tick and the first poll, or across an outage. */
export interface GapFinder {
  /**
   * What the topic's tail says at start: the newest tick time per pair. Pairs of `configured` without a tick
   * get a backfill of `firstStartMs` when given (BACKFILL_ON_START), ending at `now`.
   */
  seed(newest: ReadonlyMap<string, number>, now: number): BackfillJob[];
  /** The ticks a cycle published: a pair whose tick comes more than the threshold after its previous one has a gap. */
  observe(ticks: readonly Tick[]): BackfillJob[];
}

/**
 * A gap finder for the configured pairs: a gap is a pair's tick arriving more than `thresholdMs` (two poll
 * intervals, as the status page marks gaps) after the newest one before it, and its job covers the time in
 * between, both ends excluded (those ticks exist). `firstStartMs` null (default): no backfill for new pairs.
 * @example const gaps = createGapFinder({ pairs, thresholdMs: 2 * intervalMs, firstStartMs: null });
 */
export function createGapFinder(options: {
  pairs: readonly { asset: string; currency: string }[];
  thresholdMs: number;
  firstStartMs?: number | null;
}): GapFinder {
  const newest = new Map<string, number>();
  return {
    seed(known, now) {
      const jobs: BackfillJob[] = [];
      for (const pair of options.pairs) {
        const key = tickKey(pair);
        const at = known.get(key);
        if (at !== undefined) newest.set(key, Math.max(at, newest.get(key) ?? at));
        else if (options.firstStartMs) {
          // Rounded down to the hour as `--backfill` does, so a restart during it asks the same windows.
          const from = Math.floor((now - options.firstStartMs) / HOUR_MS) * HOUR_MS;
          jobs.push({ ...pair, from, to: now });
          newest.set(key, now);
        }
      }
      return jobs;
    },
    observe(ticks) {
      const jobs: BackfillJob[] = [];
      for (const tick of [...ticks].sort((a, b) => tickTime(a) - tickTime(b))) {
        const key = tickKey(tick);
        const at = tickTime(tick);
        const before = newest.get(key);
        if (before !== undefined && at - before > options.thresholdMs)
          jobs.push({ asset: tick.asset, currency: tick.currency, from: before + 1, to: at - 1 });
        if (before === undefined || at > before) newest.set(key, at);
      }
      return jobs;
    },
  };
}
