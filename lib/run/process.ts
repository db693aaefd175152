import { type Configs, loadConfig, type Role } from "../config.ts";
import { ConfigError, describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { StoppedError } from "../retry.ts";

/** Exit code of a bad setting: the process never started. */
export const CONFIG_EXIT_CODE = 2;

/**
 * Loads the settings `role` uses (from the environment, through lib/config.ts), or prints one `config: …` line
 * per problem to stderr and returns null, so that the entry exits with {@link CONFIG_EXIT_CODE}. Nothing is
 * printed on success. `env` replaces the environment in tests.
 * @example const config = loadConfigOrReport("producer"); // null: the entry exits with code 2
 */
export function loadConfigOrReport<R extends Role>(
  role: R,
  env?: Record<string, string | undefined>,
): Configs[R] | null {
  try {
    return loadConfig(env, role);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`config: ${line}\n`);
    return null;
  }
}

/**
 * An AbortSignal that fires on the first SIGTERM (what Fly sends) or SIGINT (Ctrl-C), its reason a
 * StoppedError naming the signal; a second one calls `onSecond` (the entry exits at once).
 * @example const signal = stopSignal(log, onSecondSignal); // the entry decides how to exit
 */
export function stopSignal(log: Logger, onSecond: () => void): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn("second stop signal, exiting now", { signal: name });
      onSecond();
      return;
    }
    log.info("stopping", { signal: name });
    controller.abort(new StoppedError(name));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  routeWarnings(log);
  return controller.signal;
}

/**
 * Runs an entry's body and returns its exit code: 0 when it resolves or stops on a stop signal, 1 with one
 * line on stderr (no stack trace) when it throws.
 * @example const code = await runMain(log, async () => { ... }); // the entry exits with it
 */
export async function runMain(log: Logger, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    // Asked to stop before the work began (SIGTERM during start-up): a clean stop, not a failure.
    if (error instanceof StoppedError) return 0;
    const line = log.redact(describeError(error));
    log.error("fatal", { error: line });
    process.stderr.write(`error: ${line}\n`);
    return 1;
  }
}

/**
 * Prints runtime warnings as one plain line each, except the TimeoutNegativeWarning that kafkajs 2.2.4 causes on
 * every connect (tulios/kafkajs#1751: a negative delay, which the runtime turns into 1 ms; harmless). For tools
 * whose output people read (the doctor, the benchmarks), where that line would look like a fault.
 */
export function printWarningsButKafkajsTimers(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning")
      process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
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
