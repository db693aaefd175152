// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
// With HEALTH_PORT it serves /healthz (ok, stale or degraded) and /metrics (Prometheus text) there.
import { createLogger } from "./lib/log.ts";
import { runProducerLoop } from "./lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "./lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "./lib/pipeline/skip-tracker.ts";
import { unlessStopped } from "./lib/retry.ts";
import { openBus, openSource } from "./lib/run/adapters.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, runMain, stopSignal } from "./lib/run/process.ts";
import { serveProducerHealth } from "./lib/run/producer-health.ts";

const config = loadConfigOrReport("producer");
if (!config) process.exit(CONFIG_EXIT_CODE);
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "producer" } });
const once = process.argv.includes("--once");

const code = await runMain(log, async () => {
  const signal = stopSignal(log, () => process.exit(130));
  const source = openSource(config, log);
  const { publisher } = await unlessStopped(signal, openBus(config.kafka, log));
  const intervalMs = config.fetchIntervalMs;
  const metrics = createProducerMetrics();
  const pairs = createSkipTracker({ log, configured: config });
  const port = once ? null : config.healthPort;
  const hostname = config.host;
  const health = port
    ? serveProducerHealth({ port, hostname, intervalMs, graceMs: 60_000, metrics, pairs })
    : null;
  try {
    await runProducerLoop({ source, publisher, log, signal, intervalMs, once, metrics, pairs });
  } finally {
    health?.stop();
    await publisher.close();
  }
});
process.exit(code);
