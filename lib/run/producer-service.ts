import type { Configs } from "../config.ts";
import { BellyError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { backfillJobs, runBackfill } from "../pipeline/backfill.ts";
import { createBackfillProgress } from "../pipeline/backfill-progress.ts";
import { runProducerLoop } from "../pipeline/produce-loop.ts";
import { createProducerMetrics } from "../pipeline/producer-metrics.ts";
import { serialPublisher } from "../pipeline/serial-publisher.ts";
import { createSkipTracker } from "../pipeline/skip-tracker.ts";
import { runStreamLoop } from "../pipeline/stream-loop.ts";
import { createTickGate } from "../pipeline/tick-gate.ts";
import { unlessStopped } from "../retry.ts";
import { openBudget, openBus, openChart, openSource, openStream, openTail } from "./adapters.ts";
import { serveProducerHealth } from "./producer-health.ts";
import { startProducerHistory } from "./producer-history.ts";

/** How the producer runs: the loop (default), one cycle (`--once`) or a backfill of `durationMs` (`--backfill`). */
export type ProducerMode = { kind: "loop" } | { kind: "once" } | { kind: "backfill"; durationMs: number };

/**
 * Runs the producer in `mode` until it is done or the signal aborts: one CoinGecko request budget for the
 * process (the poll first, history behind it), one serial publisher to Kafka. The loop also serves HEALTH_PORT
 * and heals gaps beside the poll, takes CoinGecko's stream when COINGECKO_STREAM is on (polling while it is
 * down), and passes every reading through the publishing rule and the guard when they are set; `--once` is one poll and nothing else; a backfill publishes every pair's
 * history and throws when a window failed. Closes the publisher on the way out.
 * @example await runProducerService({ config, log, signal, mode: { kind: "loop" } });
 */
export async function runProducerService(deps: {
  config: Configs["producer"];
  log: Logger;
  signal: AbortSignal;
  mode: ProducerMode;
}): Promise<void> {
  const { config, log, signal, mode } = deps;
  const budget = openBudget(config, mode.kind !== "backfill");
  const source = openSource(config, log, budget);
  const chart = openChart(config, log, budget);
  const bus = await unlessStopped(signal, openBus(config.kafka, log));
  const publisher = serialPublisher(bus.publisher);
  const metrics = createProducerMetrics();
  metrics.requestBudget = budget;
  if (mode.kind === "backfill") {
    try {
      const progress = createBackfillProgress({
        tty: process.stderr.isTTY === true,
        write: (text) => process.stderr.write(text),
        log,
      });
      const jobs = backfillJobs(config.assets, config.currencies, mode.durationMs, Date.now());
      const report = await runBackfill({ chart, publisher, jobs, log, signal, progress, metrics });
      if (report.failedWindows > 0)
        throw new BellyError(`${report.failedWindows} of ${report.windows} backfill windows failed`, {
          hint: "run the same --backfill again: what is stored already is kept once, the rest is filled",
        });
    } finally {
      await publisher.close();
    }
    return;
  }
  const once = mode.kind === "once";
  const intervalMs = config.fetchIntervalMs;
  const pairs = createSkipTracker({ log, configured: config });
  const port = once ? null : config.healthPort;
  const hostname = config.host;
  const heartbeatMs = config.publishRule?.heartbeatMs;
  const health = port
    ? serveProducerHealth({ port, hostname, intervalMs, heartbeatMs, graceMs: 60_000, metrics, pairs })
    : null;
  // The stream, the publishing rule and the guard all go through one gate, which dead-letters what it refuses.
  const stream = once ? null : openStream(config, log);
  const { publishRule: rule, guard } = config;
  const gate =
    stream || rule || guard ? createTickGate({ rule, guard, deadLetters: bus.publisher, log }) : undefined;
  const tail = openTail(bus.kafka, config.kafka);
  let history: Awaited<ReturnType<typeof startProducerHistory>> | null = null;
  try {
    if (!once) history = await startProducerHistory({ config, chart, publisher, tail, log, signal, metrics });
    const onPublished = history?.onPublished;
    if (stream && gate)
      await runStreamLoop({
        stream,
        source,
        publisher,
        gate,
        log,
        signal,
        intervalMs,
        configured: config,
        metrics,
        tracker: pairs,
      });
    else
      await runProducerLoop({
        source,
        publisher,
        log,
        signal,
        intervalMs,
        once,
        metrics,
        pairs,
        onPublished,
        gate,
      });
  } finally {
    await history?.stop();
    health?.stop();
    await publisher.close();
  }
}
