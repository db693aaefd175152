import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";

/**
 * An AbortSignal that fires on the first SIGTERM (what Fly sends) or SIGINT (Ctrl-C); a second one exits at once.
 * @example const signal = stopSignal(log);
 */
export function stopSignal(log: Logger): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn("second stop signal, exiting now", { signal: name });
      process.exit(130);
    }
    log.info("stopping", { signal: name });
    controller.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  routeWarnings(log);
  return controller.signal;
}

/**
 * Runs an entry's body: exit code 0 when it resolves, 1 with one line on stderr (no stack trace) when it throws.
 * @example await runMain(log, async () => { ... });
 */
export async function runMain(log: Logger, body: () => Promise<void>): Promise<never> {
  try {
    await body();
    process.exit(0);
  } catch (error) {
    const line = log.redact(describeError(error));
    log.error("fatal", { error: line });
    process.stderr.write(`error: ${line}\n`);
    process.exit(1);
  }
}

/** Prints a configuration problem the way config errors are printed, and exits 2. */
export function exitConfig(line: string): never {
  process.stderr.write(`config: ${line}\n`);
  process.exit(2);
}

/**
 * Sends runtime warnings into the JSON log instead of raw stderr text. kafkajs schedules a negative timeout
 * on every connect, a harmless bug of its own, so that one is kept at debug.
 */
function routeWarnings(log: Logger) {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    const level = warning.name === "TimeoutNegativeWarning" ? "debug" : "warn";
    log[level]("runtime warning", { warning: `${warning.name}: ${warning.message}` });
  });
}
