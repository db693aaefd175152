// `bun run dev [--demo]` (what `bash scripts/run.sh` runs): producer loop + consumer + status page in one
// process. No KAFKA_BROKERS: an in-process bus, SQLite under ./data and an in-memory cache; a seed-style .env:
// the real services. --demo serves a built-in CoinGecko fake, for machines without internet.
import { configOrExit } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { runAllInOne } from "../lib/run/all-in-one.ts";
import { runMain, stopSignal } from "../lib/run/process.ts";

const config = configOrExit();
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "belly" } });
const demo = process.argv.includes("--demo");

await runMain(log, async () => {
  await runAllInOne({ config, log, signal: stopSignal(log), demo });
});
