import { BusError, describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PriceSource, TickPublisher } from "../ports.ts";
import { withTimeout } from "../retry.ts";
import { runSchedule } from "../schedule.ts";
import type { Tick } from "../tick.ts";
import { createOutbox, type Outbox } from "./outbox.ts";
import { runCycle, unansweredSend } from "./produce.ts";
import { createProducerMetrics, type ProducerMetrics } from "./producer-metrics.ts";
import { createSkipTracker, type SkipTracker } from "./skip-tracker.ts";
import type { TickGate } from "./tick-gate.ts";

/** How long a stop waits for Kafka to take ticks held from failed publishes; well within Fly's kill_timeout. */
const STOP_FLUSH_MS = 15_000;

/** A cycle's publish deadline: its interval, within 10 to 60 s (a leader election takes seconds). */
export function publishTimeoutFor(intervalMs: number): number {
  return Math.min(60_000, Math.max(10_000, intervalMs));
}

/**
 * The producer's life: one cycle with `once` (throws when it failed or published nothing), otherwise a cycle
 * on every FETCH_INTERVAL boundary until the signal aborts; a failed cycle is logged and the loop goes on.
 * Each successful cycle goes to the skip tracker (a warn line when a pair starts being skipped), and every
 * cycle to the metrics.
 * @example await runProducerLoop({ source, publisher, log, signal, intervalMs: 600_000, once: false, metrics });
 */
export async function runProducerLoop(deps: {
  source: PriceSource;
  publisher: TickPublisher;
  log: Logger;
  signal: AbortSignal;
  intervalMs: number;
  once: boolean;
  /** Counters for /metrics. Default: fresh ones nobody reads. */
  metrics?: ProducerMetrics;
  /** Per-pair skips and publishes, for the logs and /healthz. Default: a tracker of the pairs cycles report. */
  pairs?: SkipTracker;
  /** Told the ticks of each acknowledged publish (gap healing). Default none. */
  onPublished?: (ticks: readonly Tick[]) => void;
  /** Publishing rule and guard (issue 13). Default none: every tick is published. */
  gate?: TickGate;
}): Promise<void> {
  const { source, publisher, log, signal } = deps;
  const outbox = createOutbox();
  const metrics = deps.metrics ?? createProducerMetrics();
  if (deps.gate) metrics.gate = deps.gate.counts;
  const pairs = deps.pairs ?? createSkipTracker({ log });
  const cycle = async () => {
    const report = await runCycle({
      source,
      publisher,
      log,
      signal,
      requireTicks: deps.once,
      outbox,
      metrics,
      onPublished: deps.onPublished,
      gate: deps.gate,
      ...(deps.once ? {} : { publishTimeoutMs: publishTimeoutFor(deps.intervalMs) }),
    });
    pairs.observe(report);
  };
  if (deps.once)
    try {
      return await cycle();
    } finally {
      await deps.gate?.close();
    }
  log.info("producer started", { intervalS: deps.intervalMs / 1000 });
  await runSchedule({
    intervalMs: deps.intervalMs,
    cycle,
    signal,
    onError: (error) =>
      log.error("cycle failed", { error: error instanceof Error ? error.message : String(error) }),
    onSkipped: (missed) => log.warn("cycle overran, skipped boundaries", { missed }),
  });
  await deps.gate?.close();
  await flushAtStop(outbox, publisher, log);
}

/**
 * Gives Kafka one last bounded chance to take the ticks still held when the producer stops, and says how many
 * are lost when it does not: the outbox lives in memory.
 * @example await flushAtStop(outbox, publisher, log);
 */
export async function flushAtStop(outbox: Outbox, publisher: TickPublisher, log: Logger): Promise<void> {
  if (outbox.size === 0) return;
  const held = outbox.withHeld([]);
  try {
    await withTimeout(
      STOP_FLUSH_MS,
      async () => {
        // One send at a time, as in the loop: the last publish waits for an unanswered one.
        await unansweredSend(publisher)?.catch(() => {});
        await publisher.publish(held);
      },
      () => new BusError(`no answer from Kafka within ${STOP_FLUSH_MS / 1000} s`),
    );
    outbox.clear();
    log.info("published the held ticks before stopping", { ticks: held.length });
  } catch (error) {
    log.warn("stopping with ticks Kafka never acknowledged; they are lost", {
      lost: held.length,
      error: describeError(error),
    });
  }
}
