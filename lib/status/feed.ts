// In-process fan-out of committed ticks to the status page's live streams.
import type { Tick } from "../tick.ts";

/** A listener of published ticks. */
export type TickListener = (tick: Tick) => void;

/** Publish/subscribe of ticks within one process. */
export interface TickFeed {
  /** Calls every listener with every tick, in order; a throwing listener never stops the others or the caller. */
  publish(ticks: Tick[]): void;
  /** Adds a listener; returns the function that removes it (safe to call twice). */
  subscribe(listener: TickListener): () => void;
  /** How many listeners are subscribed (one per open live stream). */
  readonly size: number;
}

/**
 * A tick feed: the consumer publishes each committed batch, the status app's `/api/stream` subscribes.
 * @example
 * const feed = createTickFeed();
 * createStatusApp({ ...deps, subscribe: feed.subscribe });
 * // after each committed batch:
 * feed.publish(ticks);
 */
export function createTickFeed(): TickFeed {
  const listeners = new Set<TickListener>();
  return {
    publish(ticks) {
      // Iterates a copy: a listener that unsubscribes (stream closed) must not skip its neighbour.
      for (const listener of [...listeners])
        for (const tick of ticks) {
          try {
            listener(tick);
          } catch {
            // A broken stream is its own problem; the consumer must keep committing.
          }
        }
    },
    subscribe(listener) {
      // Wrapped so that subscribing the same function twice gives two independent subscriptions.
      const entry: TickListener = (tick) => listener(tick);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    get size() {
      return listeners.size;
    },
  };
}
