/**
 * What SQLite failures mean for the history store's SinkError: a write lock held too long is worth another
 * attempt; a read-only, unopenable or foreign file is a setting to fix.
 */

/** Why a SQLite statement failed. */
type SqliteFailureKind = "busy" | "read-only" | "cannot-open" | "not-ours" | "closed";

/** A classified SQLite failure: whether trying again later may succeed, and the one-line fix. */
interface SqliteFailure {
  kind: SqliteFailureKind;
  retriable: boolean;
  fix: string;
}

/**
 * Says what a bun:sqlite error on the file at `path` means, or undefined when it is none of the failures users
 * run into; `busyTimeoutMs` is the store's busy_timeout, named in the fix for a held lock.
 * @example classifySqliteError(error, "data/belly.sqlite", 5000)?.kind // "busy"
 */
export function classifySqliteError(
  error: unknown,
  path: string,
  busyTimeoutMs: number,
): SqliteFailure | undefined {
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = error instanceof Error ? error.message : String(error);
  const failure = (kind: SqliteFailureKind, fix: string, retriable = false) => ({ kind, retriable, fix });
  if (code.startsWith("SQLITE_BUSY") || /database is locked/.test(message))
    return failure(
      "busy",
      `another process holds the write lock on ${path} for longer than ${busyTimeoutMs} ms`,
      true,
    );
  if (code.startsWith("SQLITE_READONLY") || /readonly/.test(message))
    return failure("read-only", `make ${path} and its directory writable by this user`);
  if (code.startsWith("SQLITE_CANTOPEN") || /unable to open/.test(message))
    return failure("cannot-open", `check that the directory of ${path} exists and is writable`);
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT"))
    return failure("not-ours", `${path} is not a SQLite database of belly-stream: move it away`);
  if (/closed/i.test(message)) return failure("closed", "the history store was closed");
  return undefined;
}
