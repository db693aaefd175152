/** Log levels, quietest last. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** The text with every secret this logger knows hidden, for output that is not a log line. */
  redact(text: string): string;
}

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential|sasl/i;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(:[^/@\s]*)?@/gi;

/**
 * Hides secrets: values under secret-looking keys, credentials inside URLs, and each configured secret where it
 * stands as a value of its own (see {@link redactText}).
 * @example redact({ url: "redis://:pw@host", password: "x" }, []) // { url: "redis://***@host", password: "***" }
 */
export function redact(value: unknown, secrets: readonly string[], key = ""): unknown {
  if (key && SECRET_KEY.test(key) && value !== undefined && value !== null && value !== "") return "***";
  if (typeof value === "string") return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets));
  if (value instanceof Error) return redactText(value.message, secrets);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, secrets, k);
    return out;
  }
  return value;
}

/** Letters, digits and `_`; `.` and `-` join two of them into one name ("belly-price", "belly-price.dlq"). */
const WORD = String.raw`[\p{L}\p{N}_]`;
const WORD_CHAR = new RegExp(`^${WORD}$`, "u");
const patterns = new Map<string, RegExp>();

/**
 * Matches `secret` only as a token of its own. A secret is often also a part of ordinary names (the local
 * stacks' password "belly" is in the topic "belly-price" and the client id "belly-stream"), and masking it
 * there would garble every line without hiding anything. An edge of the secret that is a word character must
 * therefore meet a boundary: start or end of text, or a character such as a space, quote, `=`, `:`, `/`, `@`
 * or `,`; a `.` or `-` counts as a boundary only when no word character follows it ("belly." ends a sentence,
 * "belly.dlq" is a name). An edge that is itself punctuation needs no boundary.
 */
function secretPattern(secret: string): RegExp {
  let pattern = patterns.get(secret);
  if (pattern) return pattern;
  // Only syntax characters may be escaped in a unicode regular expression.
  const escaped = secret.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  const before = WORD_CHAR.test(secret.at(0) ?? "") ? `(?<!${WORD}|${WORD}[.-])` : "";
  const after = WORD_CHAR.test(secret.at(-1) ?? "") ? `(?!${WORD}|[.-]${WORD})` : "";
  pattern = new RegExp(`${before}${escaped}${after}`, "gu");
  patterns.set(secret, pattern);
  return pattern;
}

/**
 * Removes URL credentials (`scheme://user:pass@`) and every known secret that stands as a token of its own
 * from free text: `password=belly`, `"belly"`, `Authorization: belly` or `... for belly` hide it, while
 * `belly-price` and `belly-stream` stay readable. Secrets shorter than 4 characters are left alone (they would
 * match too much to be told apart from text).
 * @example redactText("auth failed for s3cret at postgres://u:pw@h/db", ["s3cret"]) // "auth failed for *** at postgres://***@h/db"
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_CREDENTIALS, "$1***@");
  // Longest first: a secret that is a token of a longer one ("abcd" in "abcd:efgh") must not leave the rest.
  const longestFirst = secrets.filter((secret) => secret.length >= 4).sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) out = out.replace(secretPattern(secret), "***");
  return out;
}

/** Where log lines go; stderr by default so that stdout stays free for command output. */
export type LogSink = (line: string) => void;

/**
 * Creates a JSON-lines logger that drops lines below `level` and redacts `secrets` everywhere.
 * Defaults: level "info", sink stderr.
 * @example const log = createLogger({ level: "info", secrets: [password], base: { svc: "producer" } });
 */
export function createLogger(options: {
  level?: LogLevel;
  secrets?: readonly string[];
  base?: LogFields;
  sink?: LogSink;
}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const secrets = (options.secrets ?? []).filter(Boolean);
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(`${line}\n`));
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const record = redact({ time: new Date().toISOString(), level, msg, ...base, ...fields }, secrets);
      sink(JSON.stringify(record));
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
      redact: (text) => redactText(text, secrets),
    };
  };
  return make(options.base ?? {});
}

/** A logger that writes nothing, for unit tests. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
