/**
 * The doctor's runner: gives every check a deadline, skips the checks whose prerequisites failed, and reports
 * each result as soon as it and every earlier one are known, in declaration order.
 */
import type { Check, CheckGroup, CheckResult, Outcome } from "../checks/check.ts";
import { fail, skip } from "../checks/check.ts";
import { describeError } from "../errors.ts";
import { withTimeout } from "../retry.ts";

/** Default deadline of one check: 10 s, so that the doctor never hangs on a silent host. */
const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** Deadline of a group's `close`. */
const CLOSE_TIMEOUT_MS = 3_000;

/** A check did not settle before its deadline. */
class CheckTimeoutError extends Error {
  override name = "CheckTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`);
  }
}

/** Options of {@link runChecks}. */
interface RunOptions {
  /** Deadline per check unless the check sets its own; default 10 s. */
  timeoutMs?: number;
  /** Called once per check, in declaration order, as soon as it and every earlier check are done. */
  onResult?: (result: CheckResult) => void;
  /** Clock for elapsedMs; default performance.now. */
  now?: () => number;
}

async function runOne(
  group: CheckGroup,
  check: Check,
  done: Map<string, CheckResult>,
  options: RunOptions,
): Promise<CheckResult> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const result = (outcome: Outcome): CheckResult => ({
    id: check.id,
    subject: group.subject,
    title: check.title,
    elapsedMs: Math.round(now() - started),
    ...outcome,
  });
  const blocked = (check.needs ?? [])
    .map((id) => done.get(id))
    .find((prior) => !prior || prior.status === "fail" || prior.status === "skip");
  if (blocked) return result(skip(`${check.title} (not checked: ${blockedReason(blocked)})`));
  const timeoutMs = check.timeoutMs ?? options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  try {
    return result(
      await withTimeout(
        timeoutMs,
        (signal) => check.run(signal),
        () => new CheckTimeoutError(timeoutMs),
      ),
    );
  } catch (error) {
    if (error instanceof CheckTimeoutError)
      return result(
        fail(
          `${check.title}: ${error.message}`,
          check.timeoutFix ?? "check the network and the address in the settings",
        ),
      );
    return result(
      fail(
        `${check.title}: unexpected error: ${describeError(error)}`,
        "rerun the doctor; if this line stays, report it with the settings it names",
      ),
    );
  }
}

function blockedReason(prior: CheckResult | undefined): string {
  if (!prior) return "its prerequisite did not run";
  return `${prior.title} ${prior.status === "skip" ? "was not checked" : "failed"}`;
}

/**
 * Runs every group side by side, each group's checks one after the other, and reports results in declaration
 * order (a slow first group delays the printing of later ones, never their running). Never throws.
 * @example const results = await runChecks(groups, { onResult: (r) => console.log(formatResult(r, [])) });
 */
export async function runChecks(groups: CheckGroup[], options: RunOptions = {}): Promise<CheckResult[]> {
  const pending = groups.map((group) => {
    const done = new Map<string, CheckResult>();
    const promises: Promise<CheckResult>[] = [];
    let previous: Promise<unknown> = Promise.resolve();
    for (const check of group.checks) {
      const current = previous.then(async () => {
        const outcome = await runOne(group, check, done, options);
        done.set(check.id, outcome);
        return outcome;
      });
      promises.push(current);
      previous = current;
    }
    const closed = previous.then(() =>
      group.close
        ? withTimeout(
            CLOSE_TIMEOUT_MS,
            async () => group.close?.(),
            () => new CheckTimeoutError(CLOSE_TIMEOUT_MS),
          ).catch(() => {})
        : undefined,
    );
    return { promises, closed };
  });
  const results: CheckResult[] = [];
  for (const { promises } of pending) {
    for (const promise of promises) {
      const result = await promise;
      results.push(result);
      options.onResult?.(result);
    }
  }
  await Promise.all(pending.map((p) => p.closed));
  return results;
}
