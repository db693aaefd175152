// Consumer: reads ticks from Kafka in batches, stores each once in the history, keeps the latest per pair in
// the cache, commits only after both writes, and serves the status page and API on PORT.
// SIGTERM/SIGINT leave the batch in flight uncommitted. `--migrate` applies the migrations to DATABASE_URL.
import { openKafkaConsumerBus } from "./lib/adapters/kafka/consumer-bus.ts";
import { createLogger } from "./lib/log.ts";
import { unlessStopped } from "./lib/retry.ts";
import { runConsumerService } from "./lib/run/consumer-service.ts";
import { runMigrate } from "./lib/run/migrate.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, runMain, stopSignal } from "./lib/run/process.ts";
import { openCache, openHistory } from "./lib/run/stores.ts";

if (process.argv.includes("--migrate")) {
  const settings = loadConfigOrReport("migrate");
  process.exit(settings ? await runMigrate(settings.databaseUrl, { optional: true }) : CONFIG_EXIT_CODE);
}
const config = loadConfigOrReport("consumer");
if (!config) process.exit(CONFIG_EXIT_CODE);
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "consumer" } });

const code = await runMain(log, async () => {
  const signal = stopSignal(log, () => process.exit(130));
  const history = await openHistory(config.history, log);
  const cache = await openCache(config.cache, log);
  const bus = await unlessStopped(signal, openKafkaConsumerBus(config.kafka, log));
  const { port, host, fetchIntervalMs, assets, currencies } = config;
  const pairs = { assets, currencies };
  await runConsumerService({ bus, history, cache, log, signal, port, host, fetchIntervalMs, pairs });
});
process.exit(code);
