import type { Logger } from "../log.ts";
import { tickKey } from "../tick.ts";

/** What one successful cycle did for each pair (a CycleReport fits). */
export interface PairOutcome {
  /** Pairs (asset:currency) with a tick the bus acknowledged in this cycle. */
  publishedPairs: readonly string[];
  /** Pairs the source answer skipped, and why. */
  skipped: readonly { pair: string; reason: string }[];
}

/** A pair that has published nothing for too long, as the producer's /healthz names it. */
export interface StalePair {
  pair: string;
  /** Why the source skips it, or null when the last cycle that named it published it. */
  reason: string | null;
  /** Seconds since its last acknowledged tick, or null when it never had one. */
  lastPublishedAgeS: number | null;
}

/** Per-pair state of the producer: what is skipped and why, and when each pair last published. */
export interface SkipTracker {
  /**
   * Records a successful cycle. Logs a warn line when a pair starts being skipped or is skipped for another
   * reason than before, and one info line when a skipped pair publishes again; a pair skipped cycle after
   * cycle for the same reason logs nothing more.
   */
  observe(outcome: PairOutcome): void;
  /**
   * Pairs without an acknowledged tick for more than `maxAgeMs`, in the order first known. A pair that never
   * published counts from the tracker's creation (or from the cycle that first named it), so that at start a
   * pair is not stale before it had its chance.
   */
  stale(maxAgeMs: number): StalePair[];
}

interface PairState {
  /** When the pair became known: its age counts from here until it publishes. */
  since: number;
  lastPublishedAt: number | null;
  /** The current skip reason; null while the pair publishes. */
  reason: string | null;
  skippedSince: number;
}

/**
 * A tracker of skipped pairs, so that a pair nobody can price (an unknown id in ASSETS) shows up as one warn
 * line and on /healthz instead of in every cycle's info line only. `configured` lists the pairs to expect
 * (every asset in every currency); pairs the cycles report are added as they come. Default clock Date.now.
 * @example const pairs = createSkipTracker({ log, configured: { assets: ["beldex"], currencies: ["usd"] } });
 */
export function createSkipTracker(options: {
  log: Logger;
  configured?: { assets: readonly string[]; currencies: readonly string[] };
  now?: () => number;
}): SkipTracker {
  const { log } = options;
  const now = options.now ?? Date.now;
  const pairs = new Map<string, PairState>();
  const entry = (pair: string, at: number): PairState => {
    let state = pairs.get(pair);
    if (!state) {
      state = { since: at, lastPublishedAt: null, reason: null, skippedSince: at };
      pairs.set(pair, state);
    }
    return state;
  };
  const started = now();
  for (const asset of options.configured?.assets ?? [])
    for (const currency of options.configured?.currencies ?? []) entry(tickKey({ asset, currency }), started);

  return {
    observe(outcome) {
      const at = now();
      const skippedNow = new Map(outcome.skipped.map((s) => [s.pair, s.reason]));
      for (const [pair, reason] of skippedNow) {
        const state = entry(pair, at);
        if (state.reason === reason) continue;
        const previous = state.reason === null ? {} : { previousReason: state.reason };
        log.warn("pair skipped: nothing is published for it", { pair, reason, ...previous });
        if (state.reason === null) state.skippedSince = at;
        state.reason = reason;
      }
      for (const pair of new Set(outcome.publishedPairs)) {
        const state = entry(pair, at);
        state.lastPublishedAt = at;
        // A tick resent from the outbox does not mean the source prices the pair again.
        if (skippedNow.has(pair) || state.reason === null) continue;
        const skippedForS = Math.round((at - state.skippedSince) / 1000);
        log.info("pair publishing again", { pair, skippedReason: state.reason, skippedForS });
        state.reason = null;
      }
    },
    stale(maxAgeMs) {
      const at = now();
      const out: StalePair[] = [];
      for (const [pair, state] of pairs) {
        const ageMs = at - (state.lastPublishedAt ?? state.since);
        if (ageMs <= maxAgeMs) continue;
        const lastPublishedAgeS =
          state.lastPublishedAt === null ? null : Math.round((at - state.lastPublishedAt) / 1000);
        out.push({ pair, reason: state.reason, lastPublishedAgeS });
      }
      return out;
    },
  };
}
