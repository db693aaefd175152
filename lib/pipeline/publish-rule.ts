import { type Tick, tickTime } from "../tick.ts";

/** When a pair's reading is worth publishing: off (null in the settings) publishes every new reading. */
export interface PublishRuleSettings {
  /** Publish when the price moved at least this many percent since the last published tick; null: never on change alone. */
  deviationPct: number | null;
  /** Publish when this many ms of source time passed since the last published tick (HEARTBEAT; default FETCH_INTERVAL). */
  heartbeatMs: number | null;
}

/** Why a reading is published or not. */
export type PublishDecision = "first" | "deviation" | "heartbeat" | "unchanged";

/**
 * Relative slack on the deviation threshold, so that a move of exactly DEVIATION_PCT is not refused by the
 * rounding of binary floats (0.07 to 0.0707 computes as 0.99999…%).
 */
const ROUNDING = 1e-9;

/**
 * Whether `reading` is published under `rule`, given the pair's `last` published tick: the first reading of a
 * pair always is; then a move of at least `deviationPct` percent from the last published price, or at least
 * `heartbeatMs` of source time (sourceUpdatedAt) since it. Source time rather than the producer's clock, so that
 * the decision depends on the readings alone (a replayed path decides the same) and a stream and REST polls
 * of the same pair agree.
 * @example publishDecision(reading, last, { deviationPct: 0.5, heartbeatMs: 600_000 }) // "unchanged"
 */
export function publishDecision(
  reading: Tick,
  last: Tick | undefined,
  rule: PublishRuleSettings,
): PublishDecision {
  if (!last) return "first";
  if (rule.deviationPct !== null) {
    const movedPct = (Math.abs(reading.price - last.price) / last.price) * 100;
    if (movedPct >= rule.deviationPct * (1 - ROUNDING)) return "deviation";
  }
  if (rule.heartbeatMs !== null && tickTime(reading) - tickTime(last) >= rule.heartbeatMs) return "heartbeat";
  return "unchanged";
}
