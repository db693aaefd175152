/** Longest payload excerpt kept in an error message. */
const EXCERPT_CHARS = 200;

/**
 * Cuts a payload to about 200 characters so that errors and logs stay one readable line.
 * @example excerpt("<html>...a long page...</html>") // "<html>...a long pa… (1834 chars)"
 */
export function excerpt(payload: unknown, max = EXCERPT_CHARS): string {
  const text = typeof payload === "string" ? payload : safeStringify(payload);
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${flat.length} chars)`;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What every project error may carry besides its message. */
export interface BellyErrorOptions {
  cause?: unknown;
  /** What the user should do about it: the one-line fix. */
  hint?: string;
  /** Whether trying again later may succeed (an outage) rather than needing a setting fixed. Default false. */
  retriable?: boolean;
}

/**
 * Base class of every error this project raises on purpose: `hint` says what the user should fix, and
 * `retriable` whether waiting and trying again may succeed.
 */
export class BellyError extends Error {
  override name = "BellyError";
  /** What the user should do about it, when we know. */
  readonly hint: string | undefined;
  /** Whether the same call may succeed later without a change of settings. */
  readonly retriable: boolean;
  constructor(message: string, options?: BellyErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
    this.retriable = options?.retriable ?? false;
  }
}

/** Whether an error says it is worth another attempt (only project errors can say so). */
export function isRetriable(error: unknown): boolean {
  return error instanceof BellyError && error.retriable;
}

/**
 * A dependency's reading of one of its failures (see each adapter's failures.ts): the adapter puts `fix` and
 * `retriable` on the error it throws, and the doctor prints `fix` on its FAIL line.
 */
export interface Failure<Kind extends string = string> {
  kind: Kind;
  /** Whether trying again later may succeed (an outage) rather than needing a setting fixed. */
  retriable: boolean;
  /** The one-line fix. */
  fix: string;
}

/** The error options a classified failure gives: its fix as the hint, and whether it is retriable. */
export function failureOptions(failure: Failure | undefined): BellyErrorOptions {
  return { hint: failure?.fix, retriable: failure?.retriable };
}

/** The environment holds bad or missing values; `problems` has one line per variable. */
export class ConfigError extends BellyError {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** The price source answered with something we cannot use (HTTP error, bad body, timeout). */
export class SourceError extends BellyError {
  override name = "SourceError";
  constructor(message: string, options?: BellyErrorOptions & { status?: number; retryAfterMs?: number }) {
    super(message, options);
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** How long the source asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;
}

/** A message on the bus is not a valid tick; `reason` goes into the DLQ header. */
export class InvalidTickError extends BellyError {
  override name = "InvalidTickError";
  /** Which rule it broke, a label with few values for /metrics (the reason itself is free text). */
  readonly kind: InvalidTickKind;
  constructor(
    readonly reason: string,
    options?: { cause?: unknown; kind?: InvalidTickKind },
  ) {
    super(`invalid tick: ${reason}`, options);
    this.kind = options?.kind ?? "invalid";
  }
}

/** Why a message is not a tick this consumer stores, as `belly_dlq_total{reason}` counts it. */
export const INVALID_TICK_KINDS = [
  "empty",
  "not-json",
  "invalid",
  "unknown-schema",
  "implausible-time",
  "key-mismatch",
] as const;
/** One of {@link INVALID_TICK_KINDS}; "invalid" is a body that fails the v1 schema. */
export type InvalidTickKind = (typeof INVALID_TICK_KINDS)[number];

/** The message bus (Kafka) failed: unreachable broker, bad credentials, missing ACL. */
export class BusError extends BellyError {
  override name = "BusError";
}

/** A sink (history store or latest cache) failed to write or read. */
export class SinkError extends BellyError {
  override name = "SinkError";
  constructor(
    readonly sink: "history" | "cache",
    message: string,
    options?: BellyErrorOptions,
  ) {
    super(`${sink}: ${message}`, options);
  }
}

/**
 * One line describing any thrown value, with its hint and the chain of causes, for logs and exits.
 * @example describeError(new BusError("broker unreachable", { hint: "check KAFKA_BROKERS" }))
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return excerpt(error);
  const parts = [error.message];
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    const text = cause instanceof Error ? cause.message : excerpt(cause);
    if (text && !parts.some((part) => part.includes(text))) parts.push(text);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  const hint = error instanceof BellyError && error.hint ? ` (fix: ${error.hint})` : "";
  return excerpt(parts.join(": "), 400) + hint;
}
