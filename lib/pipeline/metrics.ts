import { BellyError, describeError, INVALID_TICK_KINDS, type InvalidTickKind } from "../errors.ts";
import { createHistogram, type Histogram } from "../prometheus-text.ts";

/** What the consumer writes to, then what it reads from, by the name its logs, the status page and /metrics use. */
export const DEPENDENCIES = ["history", "cache", "dlq", "kafka"] as const;
/** The dependencies the consumer writes to; Kafka, which it reads from, is not a sink. */
export const SINKS = ["history", "cache", "dlq"] as const;
/** One of {@link SINKS}. */
export type SinkName = (typeof SINKS)[number];
/** One of {@link DEPENDENCIES}. */
export type DependencyName = (typeof DEPENDENCIES)[number];

/** Whether one dependency takes writes, since when, and while it does not, why and what fixes it. */
export interface DependencyState {
  /** False from its first failed write until a write succeeds again. Default true. */
  up: boolean;
  /** Epoch ms of the last change of `up`; null while it has been up since the start. */
  since: number | null;
  /** One line of the last failure (secrets redacted, the fix left out), or null while up. */
  error: string | null;
  /** What the user should do about the failure (the error's hint), or null while up or when unknown. */
  fix: string | null;
}

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
  /** The same, by the rule each broke. */
  deadLetteredBy: Record<InvalidTickKind, number>;
  /** Failed sink attempts (each retry counts). */
  sinkErrors: number;
  /** The same, by sink. */
  sinkErrorsBy: Record<SinkName, number>;
  /** Seconds of each batch, from read to sinks written. */
  batchSeconds: Histogram;
  /** Seconds of each successful sink write, labelled by sink (the attempt that succeeded). */
  sinkWriteSeconds: Histogram;
  /** Batches fully processed and committed. */
  batches: number;
  /** Milliseconds the last batch took, from read to sinks written. */
  lastBatchMs: number;
  /** Source time of the newest tick seen (epoch ms), or null. */
  lastTickAt: number | null;
  /** State of each dependency; change it through {@link markDown} and {@link markUp} only. */
  dependencies: Record<DependencyName, DependencyState>;
  /** Whether any sink (history, cache, DLQ) is down: derived by {@link markDown} and {@link markUp}. */
  sinkDown: boolean;
}

const upState = (): DependencyState => ({ up: true, since: null, error: null, fix: null });

/** Fresh zeroed counters, every dependency up. */
export function createConsumerMetrics(): ConsumerMetrics {
  return {
    consumed: 0,
    written: 0,
    duplicates: 0,
    deadLettered: 0,
    deadLetteredBy: Object.fromEntries(INVALID_TICK_KINDS.map((kind) => [kind, 0])) as Record<
      InvalidTickKind,
      number
    >,
    sinkErrors: 0,
    sinkErrorsBy: { history: 0, cache: 0, dlq: 0 },
    batchSeconds: createHistogram(),
    sinkWriteSeconds: createHistogram(),
    batches: 0,
    lastBatchMs: 0,
    lastTickAt: null,
    dependencies: { history: upState(), cache: upState(), dlq: upState(), kafka: upState() },
    sinkDown: false,
  };
}

/**
 * The dependencies that are down, in the order of {@link DEPENDENCIES} (the order of a batch's writes).
 * @example downDependencies(metrics) // [{ name: "history", up: false, fix: "check the password in DATABASE_URL", … }]
 */
export function downDependencies(metrics: ConsumerMetrics): (DependencyState & { name: DependencyName })[] {
  return DEPENDENCIES.flatMap((name) => {
    const state = metrics.dependencies[name];
    return state.up ? [] : [{ name, ...state }];
  });
}

function deriveSinkDown(metrics: ConsumerMetrics): void {
  metrics.sinkDown = SINKS.some((name) => !metrics.dependencies[name].up);
}

/**
 * Records a failed write to `name`: the failure's line and fix always (the newest reason is the one worth
 * showing), the time only when it was up. Returns whether it just went down, so that callers warn once per outage.
 * @example if (markDown(metrics, "history", { error, fix }, Date.now())) log.warn("sink down", …);
 */
export function markDown(
  metrics: ConsumerMetrics,
  name: DependencyName,
  failure: { error: string; fix: string | null },
  at: number,
): boolean {
  const state = metrics.dependencies[name];
  const wentDown = state.up;
  metrics.dependencies[name] = {
    up: false,
    since: wentDown ? at : state.since,
    error: failure.error,
    fix: failure.fix,
  };
  deriveSinkDown(metrics);
  return wentDown;
}

/**
 * Records a successful write to `name`. Returns how long it was down (ms) when it just came back, else null.
 * @example const downMs = markUp(metrics, "history", Date.now()); // 42000 after a 42 s outage
 */
export function markUp(metrics: ConsumerMetrics, name: DependencyName, at: number): number | null {
  const state = metrics.dependencies[name];
  if (state.up) return null;
  metrics.dependencies[name] = { up: true, since: at, error: null, fix: null };
  deriveSinkDown(metrics);
  return Math.max(0, at - (state.since ?? at));
}

/**
 * The line and fix of a dependency's failure, as the page, /readyz and the warn lines show it: the error's one
 * line without its "(fix: …)" suffix, the fix from its hint, both through `redact`.
 * @example failureOf(new SinkError("history", "upsert failed", { hint: "check DATABASE_URL" }), log.redact)
 */
export function failureOf(
  error: unknown,
  redact: (text: string) => string,
): { error: string; fix: string | null } {
  const hint = error instanceof BellyError && error.hint ? error.hint : null;
  const line = describeError(error);
  const suffix = hint ? ` (fix: ${hint})` : "";
  const text = suffix && line.endsWith(suffix) ? line.slice(0, -suffix.length) : line;
  return { error: redact(text), fix: hint === null ? null : redact(hint) };
}
