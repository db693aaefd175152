/**
 * The doctor's building blocks: a check, its outcome, and the runner that gives every check a deadline,
 * skips the checks whose prerequisites failed and reports each result as soon as it is known, in order.
 */
import { describeError } from "../errors.ts";

/** ok: works; warn: works, but read this; fail: will not work; skip: not checked (the message says why). */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** What a check found. `fix` says what to change; it is required in spirit for warn and fail. */
export interface Outcome {
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** One finished check, as printed. */
export interface CheckResult extends Outcome {
  /** Unique id, e.g. "kafka.write". */
  id: string;
  /** The dependency it belongs to, e.g. "kafka"; printed before the message. */
  subject: string;
  /** The check's title, e.g. "WRITE on topic belly-price". */
  title: string;
  elapsedMs: number;
}

/** One thing the doctor verifies about one dependency. */
export interface Check {
  /** Unique within a run; other checks name it in `needs`. */
  id: string;
  /** What the message is about, e.g. "WRITE on topic belly-price"; used when the check is skipped or times out. */
  title: string;
  /** Ids of earlier checks of the same group that must end ok or warn, or this one is skipped. */
  needs?: string[];
  /** Deadline of this check; default the runner's. */
  timeoutMs?: number;
  /** What to do when the check times out; default "check the network and the address in the settings". */
  timeoutFix?: string;
  /** Must settle; may throw (reported as fail) but should return fail with a fix instead. */
  run(signal: AbortSignal): Promise<Outcome>;
}

/** The checks of one dependency (kafka, redis, ...), run in order; groups run side by side. */
export interface CheckGroup {
  /** Printed before each message, e.g. "kafka". */
  subject: string;
  checks: Check[];
  /** Releases connections; called once after the group's last check, with a deadline. */
  close?(): Promise<void>;
}

/** Default deadline of one check: 10 s, so that the doctor never hangs on a silent host. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** Deadline of a group's `close`. */
export const CLOSE_TIMEOUT_MS = 3_000;

/** Outcome helpers, so that checks read like the report. */
export const ok = (message: string): Outcome => ({ status: "ok", message });
/** @see ok */
export const warn = (message: string, fix: string): Outcome => ({ status: "warn", message, fix });
/** @see ok */
export const fail = (message: string, fix: string): Outcome => ({ status: "fail", message, fix });
/** @see ok */
export const skip = (message: string): Outcome => ({ status: "skip", message });

/** A check did not settle before its deadline. */
export class CheckTimeoutError extends Error {
  override name = "CheckTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`);
  }
}

/** Runs `work` until it settles or `timeoutMs` passes; on timeout aborts `signal` and throws CheckTimeoutError. */
async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CheckTimeoutError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link runChecks}. */
export interface RunOptions {
  /** Deadline per check unless the check sets its own; default {@link DEFAULT_CHECK_TIMEOUT_MS}. */
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
    return result(await withDeadline(timeoutMs, (signal) => check.run(signal)));
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
 * @example const results = await runChecks(groups, { onResult: (r) => console.log(formatResult(r)) });
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
        ? withDeadline(CLOSE_TIMEOUT_MS, () => group.close?.() ?? Promise.resolve()).catch(() => {})
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
