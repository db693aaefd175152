// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
// With HEALTH_PORT it serves /healthz (ok, stale or degraded) and /metrics (Prometheus text) there.
// With COINGECKO_STREAM=true it publishes CoinGecko's stream as it comes, polling over REST while it is down.
import { createLogger } from "./lib/log.ts";
import { runProducerLoop } from "./lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "./lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "./lib/pipeline/skip-tracker.ts";
import { runStreamLoop } from "./lib/pipeline/stream-loop.ts";
import { createTickGate } from "./lib/pipeline/tick-gate.ts";
import { unlessStopped } from "./lib/retry.ts";
import { openBus, openSource, openStream } from "./lib/run/adapters.ts";
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
  const heartbeatMs = config.publishRule?.heartbeatMs;
  const health = port
    ? serveProducerHealth({ port, intervalMs, heartbeatMs, graceMs: 60_000, metrics, pairs })
    : null;
  const stream = once ? null : openStream(config, log);
  const gated = stream || config.publishRule || config.guard;
  const { publishRule: rule, guard } = config;
  const gate = gated ? createTickGate({ rule, guard, deadLetters: publisher, log }) : undefined;
  try {
    if (stream && gate) {
      const tracker = pairs;
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
        tracker,
      });
    } else await runProducerLoop({ source, publisher, log, signal, intervalMs, once, metrics, pairs, gate });
  } finally {
    health?.stop();
    await publisher.close();
  }
});
process.exit(code);
