/**
 * `bun run doctor`: checks every configured dependency (Kafka, Redis or Upstash, Postgres, Supabase, CoinGecko)
 * and prints one line per check, with the fix for each failure. Exit 0 when nothing failed, 1 when something
 * did, 2 when the environment itself is invalid.
 */
import { runDoctor } from "../lib/doctor/doctor.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport, printWarningsButKafkajsTimers } from "../lib/run/process.ts";

printWarningsButKafkajsTimers();

const config = loadConfigOrReport("all");
if (!config) process.exit(CONFIG_EXIT_CODE);
const { code } = await runDoctor(config);
// Exit explicitly: a check that timed out may still hold a socket open, and the verdict is already printed.
process.exit(code);
