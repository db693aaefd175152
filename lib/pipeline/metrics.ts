/** Counters of the consumer, read by logs now and by the status page and /metrics later. */
export interface ConsumerMetrics {
  /** Messages read from the bus. */
  consumed: number;
  /** Ticks newly inserted into the history. */
  written: number;
  /** Valid ticks the history already held (replays, re-polled unchanged prices). */
  duplicates: number;
  /** Messages sent to the dead-letter topic. */
  deadLettered: number;
  /** Failed sink attempts (each retry counts). */
  sinkErrors: number;
  /** Batches fully processed and committed. */
  batches: number;
  /** Milliseconds the last batch took, from read to sinks written. */
  lastBatchMs: number;
  /** Source time of the newest tick seen (epoch ms), or null. */
  lastTickAt: number | null;
  /** Whether the last sink attempt failed (a sink is down). */
  sinkDown: boolean;
}

/** Fresh zeroed counters. */
export function createConsumerMetrics(): ConsumerMetrics {
  return {
    consumed: 0,
    written: 0,
    duplicates: 0,
    deadLettered: 0,
    sinkErrors: 0,
    batches: 0,
    lastBatchMs: 0,
    lastTickAt: null,
    sinkDown: false,
  };
}
