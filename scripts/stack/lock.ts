import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isOurProcess } from "./process.ts";
import type { Progress } from "./wait.ts";

/**
 * Takes the stack's lock so that two `up`/`down` runs (two test processes, a CLI and a test) never start
 * the same server twice. A lock left by a dead process is taken over.
 * Default: wait up to 15 min, the worst cold start (setup + jar download + first broker start).
 * @returns a function that releases the lock
 */
export async function acquireLock(
  stateDir: string,
  progress: Progress,
  timeoutMs = 15 * 60_000,
): Promise<() => void> {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "stack.lock");
  const deadline = performance.now() + timeoutMs;
  let told = false;
  while (performance.now() < deadline) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(safeRead(file), 10);
    // An empty file is a holder between create and write, unless it has been empty for long.
    const abandoned = Number.isInteger(holder) ? !isOurProcess(holder, "bun") : ageMs(file) > 5000;
    // `bun` is in the command line of every process that can hold this lock.
    if (abandoned) {
      rmSync(file, { force: true });
      continue;
    }
    if (!told) progress("stack", `waiting for pid ${holder}, which is bringing the stack up or down…`);
    told = true;
    await Bun.sleep(200);
  }
  throw new Error(`stack: could not take ${file} within ${timeoutMs / 1000}s`);
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
