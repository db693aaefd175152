/**
 * The doctor's building blocks, which every adapter's doctor.ts builds its checks from: a check, its group, its
 * outcome and the helpers that make checks read like the report. lib/doctor/run.ts runs them.
 */

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
  /** Deadline of this check; default the runner's (10 s). */
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

/** Outcome helpers, so that checks read like the report. */
export const ok = (message: string): Outcome => ({ status: "ok", message });
/** @see ok */
export const warn = (message: string, fix: string): Outcome => ({ status: "warn", message, fix });
/** @see ok */
export const fail = (message: string, fix: string): Outcome => ({ status: "fail", message, fix });
/** @see ok */
export const skip = (message: string): Outcome => ({ status: "skip", message });
