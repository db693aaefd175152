/**
 * What SQLite failures mean for the history store's SinkError: a write lock held too long is worth another
 * attempt; a read-only, unopenable or foreign file is a setting to fix.
 */
import type { Failure } from "../../errors.ts";

/** The fix per kind of failure, for the file at `path` with a busy_timeout of `busyMs`. */
const fixes = (path: string, busyMs: number) => ({
  busy: `another process holds the write lock on ${path} for longer than ${busyMs} ms`,
  "read-only": `make ${path} and its directory writable by this user`,
  "cannot-open": `check that the directory of ${path} exists and is writable`,
  "not-ours": `${path} is not a SQLite database of belly-stream: move it away`,
  closed: "the history store was closed",
});

type SqliteFailureKind = keyof ReturnType<typeof fixes>;

function kindOf(code: string, message: string): SqliteFailureKind | undefined {
  if (code.startsWith("SQLITE_BUSY") || /database is locked/.test(message)) return "busy";
  if (code.startsWith("SQLITE_READONLY") || /readonly/.test(message)) return "read-only";
  if (code.startsWith("SQLITE_CANTOPEN") || /unable to open/.test(message)) return "cannot-open";
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) return "not-ours";
  if (/closed/i.test(message)) return "closed";
  return undefined;
}

/**
 * Says what a bun:sqlite error on the file at `path` means, or undefined when it is none of the failures users
 * run into; `busyMs` is the store's busy_timeout.
 * @example classifySqliteError(error, "data/belly.sqlite", 5000)?.kind // "busy"
 */
export function classifySqliteError(
  error: unknown,
  path: string,
  busyMs: number,
): Failure<SqliteFailureKind> | undefined {
  const code = String((error as { code?: unknown })?.code ?? "");
  const kind = kindOf(code, error instanceof Error ? error.message : String(error));
  return kind && { kind, retriable: kind === "busy", fix: fixes(path, busyMs)[kind] };
}
