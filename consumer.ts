// Consumer: reads ticks from Kafka in batches, stores each once in the history, keeps the latest per pair in
// the cache, and commits only after both writes. SIGTERM/SIGINT leave the batch in flight uncommitted.
import { subscribeKafka } from "./lib/bus/kafka-subscriber.ts";
import { configOrExit } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { createBatchProcessor } from "./lib/pipeline/consume.ts";
import { createConsumerMetrics } from "./lib/pipeline/metrics.ts";
import { openBus, openCache, openHistory, requireKafka } from "./lib/run/adapters.ts";
import { runMain, stopSignal } from "./lib/run/process.ts";

const config = configOrExit();
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "consumer" } });
const kafkaConfig = requireKafka(config);

await runMain(log, async () => {
  const signal = stopSignal(log);
  const history = openHistory(config);
  const cache = openCache(config, log);
  const metrics = createConsumerMetrics();
  const { kafka, publisher: deadLetters } = await openBus(kafkaConfig, log);
  const processBatch = createBatchProcessor({ history, cache, deadLetters, log, metrics });
  const subscription = await subscribeKafka(kafka, kafkaConfig, processBatch, log);
  log.info("started", { topic: kafkaConfig.topic, group: kafkaConfig.group });
  signal.addEventListener("abort", () => void subscription.stop(), { once: true });
  try {
    await subscription.done;
  } finally {
    await subscription.stop();
    await Promise.allSettled([deadLetters.close(), history.close(), cache.close()]);
    log.info("stopped", { ...metrics });
  }
});
