// Consumer: reads ticks from Kafka in batches, stores each once in the history, keeps the latest per pair in
// the cache, commits only after both writes, and serves the status page and API on PORT.
// SIGTERM/SIGINT leave the batch in flight uncommitted. `--migrate` applies the migrations to DATABASE_URL.

import { openKafkaConsumerBus } from "./lib/adapters/kafka/consumer-bus.ts";
import { configOrExit } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { openCache, openHistory, requireKafka } from "./lib/run/adapters.ts";
import { runConsumerService } from "./lib/run/consumer-service.ts";
import { runMigrate } from "./lib/run/migrate.ts";
import { runMain, stopSignal } from "./lib/run/process.ts";

const config = configOrExit();
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "consumer" } });
if (process.argv.includes("--migrate")) await runMigrate(config, { optional: true });
const kafkaConfig = requireKafka(config);

await runMain(log, async () => {
  const signal = stopSignal(log);
  const history = openHistory(config, log);
  const cache = openCache(config, log);
  const bus = await openKafkaConsumerBus(kafkaConfig, log);
  const { port, fetchIntervalMs } = config;
  await runConsumerService({ bus, history, cache, log, signal, port, fetchIntervalMs });
});
