import { type Tick, tickIdentity, tickTime } from "../tick.ts";

/** Most ticks the outbox keeps: at 6 pairs every 10 minutes, about 115 days of a Kafka outage. */
const OUTBOX_LIMIT = 100_000;

/** Ticks fetched but not yet acknowledged by the bus, kept for the next cycle. */
export interface Outbox {
  /** The held ticks plus `fresh`, oldest first, each identity once: what the next publish must send. */
  withHeld(fresh: Tick[]): Tick[];
  /** Holds ticks whose publish failed; drops the oldest beyond the limit and returns how many it dropped. */
  hold(ticks: Tick[]): number;
  /** Forgets everything after a successful publish. */
  clear(): void;
  readonly size: number;
}

/**
 * An in-memory outbox, so that a bus outage delays ticks instead of losing them: a tick CoinGecko reported
 * during the outage is published with the first cycle that reaches Kafka again. Default limit 100 000.
 * @example const outbox = createOutbox(); await publish(outbox.withHeld(ticks)) ... outbox.clear();
 */
export function createOutbox(limit = OUTBOX_LIMIT): Outbox {
  let held: Tick[] = [];
  return {
    withHeld(fresh) {
      const byIdentity = new Map<string, Tick>();
      for (const tick of [...held, ...fresh])
        if (!byIdentity.has(tickIdentity(tick))) byIdentity.set(tickIdentity(tick), tick);
      // Oldest first keeps each pair's ticks in source order on its partition.
      return [...byIdentity.values()].sort((a, b) => tickTime(a) - tickTime(b));
    },
    hold(ticks) {
      held = ticks;
      const dropped = Math.max(0, held.length - limit);
      if (dropped > 0) held = held.slice(dropped);
      return dropped;
    },
    clear() {
      held = [];
    },
    get size() {
      return held.length;
    },
  };
}
