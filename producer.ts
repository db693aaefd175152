// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
import { configOrExit } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { runCycle } from "./lib/pipeline/produce.ts";
import { openBus, openSource, requireKafka } from "./lib/run/adapters.ts";
import { runMain, stopSignal } from "./lib/run/process.ts";
import { runSchedule } from "./lib/schedule.ts";

const config = configOrExit();
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "producer" } });
const kafkaConfig = requireKafka(config);
const once = process.argv.includes("--once");

await runMain(log, async () => {
  const signal = stopSignal(log);
  const source = openSource(config, log);
  const { publisher } = await openBus(kafkaConfig, log);
  const cycle = () => runCycle({ source, publisher, log, signal, requireTicks: once }).then(() => {});
  try {
    if (once) await cycle();
    else {
      log.info("started", { topic: kafkaConfig.topic, intervalS: config.fetchIntervalMs / 1000 });
      await runSchedule({
        intervalMs: config.fetchIntervalMs,
        cycle,
        signal,
        onError: (e) => logCycleError(e),
      });
    }
  } finally {
    await publisher.close();
  }
});

function logCycleError(error: unknown) {
  log.error("cycle failed", { error: error instanceof Error ? error.message : String(error) });
}
