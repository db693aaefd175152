import type { Tick } from "../tick.ts";

/** The sanity guard (GUARD_FACTOR): null in the settings when off, the default. */
export interface GuardSettings {
  /** A reading above last x factor or below last / factor is a jump, held until the next reading confirms it. */
  factor: number;
}

/** Which way a reading jumps from the last published price, or null when it stays within the factor. */
export type Jump = "up" | "down" | null;

/**
 * The jump of `price` from `last` under `guard`: "up" above last x factor, "down" below last / factor.
 * @example jumpOf(300, 100, { factor: 2 }) // "up"
 */
export function jumpOf(price: number, last: number, guard: GuardSettings): Jump {
  if (price > last * guard.factor) return "up";
  if (price < last / guard.factor) return "down";
  return null;
}

/** What the guard makes of a reading, given the pair's last published tick and the reading it holds. */
export type GuardVerdict =
  /** Within the factor, or nothing to compare with: goes on to the publishing rule. */
  | { kind: "pass" }
  /** A jump: held until the next reading. */
  | { kind: "hold" }
  /** The held reading is confirmed by this one (a jump the same way): publish it, then judge this one. */
  | { kind: "confirm"; held: Tick }
  /** The held reading is not confirmed: dead-letter it with `reason`, then judge this one. */
  | { kind: "reject"; held: Tick; reason: string };

/**
 * The guard's verdict on `reading`: with a held reading, the next reading confirms it when it jumps the same way
 * from `last` (the move is real) and refutes it otherwise (a single bad print); without one, a jump is held.
 * The first reading of a pair has nothing to compare with and passes.
 * @example guardVerdict(reading, last, undefined, { factor: 2 }) // { kind: "hold" } for a reading at 3 x last
 */
export function guardVerdict(
  reading: Tick,
  last: Tick | undefined,
  held: Tick | undefined,
  guard: GuardSettings,
): GuardVerdict {
  if (!last) return { kind: "pass" };
  if (held) {
    const heldJump = jumpOf(held.price, last.price, guard);
    if (jumpOf(reading.price, last.price, guard) === heldJump) return { kind: "confirm", held };
    const times = held.price / last.price;
    return {
      kind: "reject",
      held,
      reason: `price guard: ${held.price} at ${held.sourceUpdatedAt} is ${times.toPrecision(3)} x the last published ${last.price} (GUARD_FACTOR ${guard.factor}) and the next reading, ${reading.price} at ${reading.sourceUpdatedAt}, did not confirm it`,
    };
  }
  return jumpOf(reading.price, last.price, guard) ? { kind: "hold" } : { kind: "pass" };
}
