// `bun run dev [--demo]` (what `bash scripts/run.sh` runs): producer loop + consumer + status page in one
// process. No KAFKA_BROKERS: an in-process bus, SQLite under ./data and an in-memory cache; a seed-style .env:
// the real services. --demo prices from a built-in random walk (lib/demo), for machines without internet.
import { createLogger } from "../lib/log.ts";
import { runAllInOne } from "../lib/run/all-in-one.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, runMain, stopSignal } from "../lib/run/process.ts";

const config = loadConfigOrReport("dev");
if (!config) process.exit(CONFIG_EXIT_CODE);
const log = createLogger({ level: config.logLevel, secrets: config.secrets, base: { svc: "belly" } });
const demo = process.argv.includes("--demo");

process.exit(
  await runMain(log, () =>
    runAllInOne({ config, log, signal: stopSignal(log, () => process.exit(130)), demo }),
  ),
);
