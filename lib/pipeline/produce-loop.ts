import type { Logger } from "../log.ts";
import type { PriceSource, TickPublisher } from "../ports.ts";
import { runSchedule } from "../schedule.ts";
import { createOutbox } from "./outbox.ts";
import { runCycle } from "./produce.ts";
import { createProducerMetrics, type ProducerMetrics } from "./producer-metrics.ts";
import { createSkipTracker, type SkipTracker } from "./skip-tracker.ts";

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
}): Promise<void> {
  const { source, publisher, log, signal } = deps;
  const outbox = createOutbox();
  const metrics = deps.metrics ?? createProducerMetrics();
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
    });
    pairs.observe(report);
  };
  if (deps.once) return cycle();
  log.info("producer started", { intervalS: deps.intervalMs / 1000 });
  await runSchedule({
    intervalMs: deps.intervalMs,
    cycle,
    signal,
    onError: (error) =>
      log.error("cycle failed", { error: error instanceof Error ? error.message : String(error) }),
    onSkipped: (missed) => log.warn("cycle overran, skipped boundaries", { missed }),
  });
}
