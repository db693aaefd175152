import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./config.ts";
import { run } from "./process.ts";
import { elapsed, type Progress } from "./wait.ts";

/** Commands the stack runs; Debian packages install them all. */
const COMMANDS = ["java", "mvn", "openssl", "redis-server"];

/** What is missing on this machine for the stack to start; empty when all is there. */
export function missingPrerequisites(): string[] {
  const missing = COMMANDS.filter((cmd) => !Bun.which(cmd));
  const hasPostgres =
    process.env.PG_BIN !== undefined ||
    (existsSync("/usr/lib/postgresql") && Bun.which("initdb", { PATH: pgBinPath() }) !== null);
  if (!hasPostgres) missing.push("postgresql (initdb)");
  if (process.getuid?.() === 0 && !Bun.which("runuser")) missing.push("runuser");
  return missing;
}

function pgBinPath(): string {
  return ["18", "17", "16", "15", "14", "13"].map((v) => `/usr/lib/postgresql/${v}/bin`).join(":");
}

/**
 * Makes sure the Debian packages are installed, running `scripts/setup.sh` when something is missing
 * and we are root (a fresh CI machine); otherwise fails with what to install.
 */
export async function ensurePrerequisites(progress: Progress): Promise<void> {
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  const setup = join(REPO_ROOT, "scripts", "setup.sh");
  if (process.getuid?.() !== 0) {
    throw new Error(`stack: missing ${missing.join(", ")}; run: sudo bash ${setup}`);
  }
  const start = performance.now();
  progress("setup", `missing ${missing.join(", ")}; running scripts/setup.sh (apt-get)…`);
  await run(["bash", setup], { timeoutMs: 900_000 });
  const still = missingPrerequisites();
  if (still.length > 0) throw new Error(`stack: still missing after setup.sh: ${still.join(", ")}`);
  progress("setup", `done in ${elapsed(start)}`);
}
