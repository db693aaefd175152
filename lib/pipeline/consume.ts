import { describeError, InvalidTickError, type InvalidTickKind } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { BatchContext, BusMessage, DeadLetters, HistoryStore, LatestCache } from "../ports.ts";
import { type BackoffOptions, backoffDelay, sleep as defaultSleep, retry } from "../retry.ts";
import { decodeTimedTickMessage, newestPerPair, type Tick, type TimedTick } from "../tick.ts";
import { type ConsumerMetrics, failureOf, markDown, markUp, type SinkName } from "./metrics.ts";

/** What the batch processor needs: the two sinks, the dead-letter topic, a logger and counters. */
export interface ConsumeDeps {
  history: HistoryStore;
  cache: LatestCache;
  deadLetters: DeadLetters;
  log: Logger;
  metrics: ConsumerMetrics;
  /** Backoff between sink retries. Default: base 500 ms, cap 30 s. */
  backoff?: BackoffOptions;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Clock in epoch ms for batch durations, for when a dependency went down or came back, and for refusing ticks
   * dated in the future. Default Date.now.
   */
  now?: () => number;
  /**
   * Called once both sinks hold the batch, with its valid ticks and the newest of them per pair (what the cache
   * was given): live updates of the status page.
   */
  onWritten?: (ticks: Tick[], newest: Tick[]) => void;
}

/** What one batch did. */
export interface BatchOutcome {
  valid: number;
  invalid: number;
  inserted: number;
  duplicates: number;
  cacheUpdated: number;
}

/** Longest wait between two heartbeats while a sink write is retried: well under any session timeout. */
const HEARTBEAT_SLICE_MS = 3_000;

/**
 * Builds the consumer's batch step: validate -> dead-letter the invalid -> history upsert -> latest cache.
 * Invalid means: not a v1 tick, an unknown `schema` header, a key naming another pair, or a sourceUpdatedAt
 * outside the plausible window against `now` (see decodeTickMessage).
 * It returns only when every write succeeded, so the caller commits after it; a sink failure is retried with
 * backoff (heartbeating meanwhile) until it succeeds or the signal aborts, which throws StoppedError and
 * leaves the batch uncommitted.
 * @example const step = createBatchProcessor({ history, cache, deadLetters, log, metrics });
 */
export function createBatchProcessor(deps: ConsumeDeps) {
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? Date.now;
  const backoff = { baseMs: 500, capMs: 30_000, ...deps.backoff };

  // The failure as the status page shows it: its line without the fix (shown apart) and the fix. The page is
  // public and the counters skip the logger, so both go through the logger's redaction here.

  // A sink outage of any length is waited out: the batch stays uncommitted until both sinks hold it.
  // Each retry is logged at debug; a warn is written only when the dependency goes down or comes back, so
  // that an outage of an hour is two warn lines, not hundreds.
  async function untilWritten<T>(what: SinkName, write: () => Promise<T>, ctx: BatchContext): Promise<T> {
    let attempts = 0;
    // Waits in slices with a heartbeat after each, so that a long backoff never outlives the group session.
    // A failed heartbeat (the group dropped this member) ends the batch uncommitted rather than being retried:
    // the bus rejoins and the batch comes again.
    const waitHeartbeating = async (ms: number, signal?: AbortSignal) => {
      for (let left = ms; ; left -= HEARTBEAT_SLICE_MS) {
        await sleep(Math.min(left, HEARTBEAT_SLICE_MS), signal);
        await ctx.heartbeat();
        if (left <= HEARTBEAT_SLICE_MS) return;
      }
    };
    const result = await retry(
      async (attempt) => {
        attempts = attempt;
        const began = performance.now();
        const written = await write();
        deps.metrics.sinkWriteSeconds.observe((performance.now() - began) / 1000, { sink: what });
        return written;
      },
      {
        retries: Number.POSITIVE_INFINITY,
        delayFor: (_error, attempt) => backoffDelay(attempt, backoff),
        sleep: waitHeartbeating,
        signal: ctx.signal,
        onRetry: ({ error, attempt, delayMs }) => {
          deps.metrics.sinkErrors++;
          deps.metrics.sinkErrorsBy[what]++;
          const failure = failureOf(error, deps.log.redact);
          deps.log.debug("sink write failed, retrying", {
            sink: what,
            attempt,
            retryInMs: delayMs,
            error: describeError(error),
          });
          if (markDown(deps.metrics, what, failure, now()))
            deps.log.warn("sink down", {
              sink: what,
              error: failure.error,
              fix: failure.fix,
              retrying: true,
            });
        },
      },
    );
    const downMs = markUp(deps.metrics, what, now());
    if (downMs !== null) deps.log.warn("sink recovered", { sink: what, downMs, attempts });
    return result;
  }

  return async function processBatch(messages: BusMessage[], ctx: BatchContext): Promise<BatchOutcome> {
    const started = now();
    // Each message is decoded once, its date parsed once: the newest per pair and the metrics reuse the time.
    const timed: TimedTick[] = [];
    const rejected: { message: BusMessage; reason: string; kind: InvalidTickKind }[] = [];
    for (const message of messages) {
      try {
        timed.push(decodeTimedTickMessage(message, started));
      } catch (error) {
        if (!(error instanceof InvalidTickError)) throw error;
        rejected.push({ message, reason: error.reason, kind: error.kind });
      }
    }
    deps.metrics.consumed += messages.length;

    if (rejected.length > 0) {
      await untilWritten("dlq", () => deps.deadLetters.send(rejected), ctx);
      deps.metrics.deadLettered += rejected.length;
      for (const { kind } of rejected) deps.metrics.deadLetteredBy[kind]++;
      for (const { message, reason } of rejected)
        deps.log.warn("message sent to DLQ", {
          partition: message.partition,
          offset: message.offset,
          key: message.key,
          reason,
        });
    }

    const ticks = timed.map((item) => item.tick);
    // The cache keeps the newest tick of each pair anyway: giving it only those is one write per pair.
    const newest = newestPerPair(timed);
    // History first: if the process dies between the two writes, the replay fixes the cache, never the reverse.
    const { inserted } = await untilWritten("history", () => deps.history.upsert(ticks), ctx);
    const { updated } = await untilWritten("cache", () => deps.cache.putIfNewer(newest), ctx);

    deps.metrics.written += inserted;
    deps.metrics.duplicates += ticks.length - inserted;
    deps.metrics.batches++;
    deps.metrics.lastBatchMs = now() - started;
    deps.metrics.batchSeconds.observe(deps.metrics.lastBatchMs / 1000);
    for (const { at } of timed) deps.metrics.lastTickAt = Math.max(deps.metrics.lastTickAt ?? 0, at);

    const outcome = {
      valid: ticks.length,
      invalid: rejected.length,
      inserted,
      duplicates: ticks.length - inserted,
      cacheUpdated: updated,
    };
    deps.log.info("batch", { ...outcome, partition: messages[0]?.partition, ms: deps.metrics.lastBatchMs });
    if (ticks.length > 0) deps.onWritten?.(ticks, newest);
    return outcome;
  };
}
