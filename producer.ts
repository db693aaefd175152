// Producer: polls CoinGecko on FETCH_INTERVAL boundaries and publishes each tick to Kafka.
// `bun run producer.ts --once` publishes one cycle and exits 0, or non-zero with a one-line reason.
// `bun run producer.ts --backfill 30d` publishes CoinGecko's price history of every pair and exits.
// With HEALTH_PORT it serves /healthz (ok, stale or degraded) and /metrics (Prometheus text) there.
// With COINGECKO_STREAM=true it publishes CoinGecko's stream as it comes, polling over REST while it is down.
import { createLogger } from "./lib/log.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, runMain, stopSignal } from "./lib/run/process.ts";
import { backfillArgument } from "./lib/run/producer-args.ts";
import { type ProducerMode, runProducerService } from "./lib/run/producer-service.ts";

const config = loadConfigOrReport("producer");
if (!config) process.exit(CONFIG_EXIT_CODE);
const backfill = backfillArgument(process.argv.slice(2));
if (backfill && "problem" in backfill) {
  process.stderr.write(`config: ${backfill.problem}\n`);
  process.exit(CONFIG_EXIT_CODE);
}
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "producer" } });
const mode: ProducerMode = backfill
  ? { kind: "backfill", durationMs: backfill.durationMs }
  : { kind: process.argv.includes("--once") ? "once" : "loop" };

const code = await runMain(log, async () => {
  const signal = stopSignal(log, () => process.exit(130));
  await runProducerService({ config, log, signal, mode });
});
process.exit(code);
