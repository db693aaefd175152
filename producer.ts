// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
// `bun run producer.ts --backfill 30d` publishes CoinGecko's price history of every pair and exits.
// With HEALTH_PORT it serves /healthz (ok, stale or degraded) and /metrics (Prometheus text) there.

import { BellyError } from "./lib/errors.ts";
import { createLogger } from "./lib/log.ts";
import { backfillJobs, runBackfill } from "./lib/pipeline/backfill.ts";
import { createBackfillProgress } from "./lib/pipeline/backfill-progress.ts";
import { runProducerLoop } from "./lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "./lib/pipeline/producer-metrics.ts";
import { serialPublisher } from "./lib/pipeline/serial-publisher.ts";
import { createSkipTracker } from "./lib/pipeline/skip-tracker.ts";
import { unlessStopped } from "./lib/retry.ts";
import { openBudget, openBus, openChart, openSource, openTail } from "./lib/run/adapters.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, runMain, stopSignal } from "./lib/run/process.ts";
import { backfillArgument } from "./lib/run/producer-args.ts";
import { serveProducerHealth } from "./lib/run/producer-health.ts";
import { startProducerHistory } from "./lib/run/producer-history.ts";

const config = loadConfigOrReport("producer");
if (!config) process.exit(CONFIG_EXIT_CODE);
const backfill = backfillArgument(process.argv.slice(2));
if (backfill && "problem" in backfill) {
  process.stderr.write(`config: ${backfill.problem}\n`);
  process.exit(CONFIG_EXIT_CODE);
}
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "producer" } });
const once = process.argv.includes("--once");

const code = await runMain(log, async () => {
  const signal = stopSignal(log, () => process.exit(130));
  // One budget for every CoinGecko request of this process: the poll first, history behind it.
  const budget = openBudget(config, !backfill);
  const source = openSource(config, log, budget);
  const chart = openChart(config, log, budget);
  const bus = await unlessStopped(signal, openBus(config.kafka, log));
  const publisher = serialPublisher(bus.publisher);
  const intervalMs = config.fetchIntervalMs;
  const metrics = createProducerMetrics();
  metrics.requestBudget = budget;
  if (backfill) {
    try {
      const progress = createBackfillProgress({
        tty: process.stderr.isTTY === true,
        write: (text) => process.stderr.write(text),
        log,
      });
      const jobs = backfillJobs(config.assets, config.currencies, backfill.durationMs, Date.now());
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
  const pairs = createSkipTracker({ log, configured: config });
  const port = once ? null : config.healthPort;
  const health = port ? serveProducerHealth({ port, intervalMs, graceMs: 60_000, metrics, pairs }) : null;
  // `--once` is one poll and nothing else; a running producer heals gaps and backfills new pairs beside it.
  const tail = openTail(bus.kafka, config.kafka);
  let history: Awaited<ReturnType<typeof startProducerHistory>> | null = null;
  try {
    if (!once) history = await startProducerHistory({ config, chart, publisher, tail, log, signal, metrics });
    const onPublished = history?.onPublished;
    await runProducerLoop({ source, publisher, log, signal, intervalMs, once, metrics, pairs, onPublished });
  } finally {
    await history?.stop();
    health?.stop();
    await publisher.close();
  }
});
process.exit(code);
