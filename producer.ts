// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
import { configOrExit } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { runProducerLoop } from "./lib/pipeline/produce-loop.ts";
import { openBus, openSource, requireKafka } from "./lib/run/adapters.ts";
import { runMain, stopSignal } from "./lib/run/process.ts";
import { serveProducerHealth } from "./lib/run/producer-health.ts";

const config = configOrExit();
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "producer" } });
const kafkaConfig = requireKafka(config);
const once = process.argv.includes("--once");

await runMain(log, async () => {
  const signal = stopSignal(log);
  const source = openSource(config, log);
  const { publisher } = await openBus(kafkaConfig, log);
  const intervalMs = config.fetchIntervalMs;
  const port = once ? null : config.healthPort;
  const health = port ? serveProducerHealth({ port, intervalMs, graceMs: 60_000 }) : null;
  try {
    await runProducerLoop({ source, publisher, log, signal, intervalMs, once, onSuccess: health?.succeeded });
  } finally {
    health?.stop();
    await publisher.close();
  }
});
