/**
 * What Postgres failures mean, for the history store (SinkError hints) and the doctor (FAIL fixes) alike: an
 * unreachable server is worth another attempt; a missing table, a wrong password or a missing grant is a
 * setting to fix.
 */
import { describeError } from "../../errors.ts";

/** Why a Postgres statement failed. */
export type PostgresFailureKind =
  | "missing-table"
  | "password"
  | "no-database"
  | "user"
  | "no-grant"
  | "tls"
  | "unreachable";

/** A classified Postgres failure: whether trying again later may succeed, and the one-line fix. */
interface PostgresFailure {
  kind: PostgresFailureKind;
  retriable: boolean;
  fix: string;
}

/**
 * The fix for a failure of `kind`; `role` names the DATABASE_URL role in the grant. Default "the DATABASE_URL role".
 * @example postgresFix("password") // "check the password in DATABASE_URL"
 */
export function postgresFix(kind: PostgresFailureKind, role = "the DATABASE_URL role"): string {
  switch (kind) {
    case "missing-table":
      return "run `bun run migrate` with this DATABASE_URL (or paste supabase/migrations/20261126000000_price_history.sql into the Supabase SQL editor)";
    case "password":
      return "check the password in DATABASE_URL";
    case "no-database":
      return "check the database name at the end of DATABASE_URL";
    case "user":
      return "check the user in DATABASE_URL (and sslmode)";
    case "no-grant":
      return `grant select, insert on public.price_history to ${role} (or use the table owner in DATABASE_URL)`;
    case "tls":
      return "add ?sslmode=require to DATABASE_URL";
    case "unreachable":
      return "check that Postgres runs and DATABASE_URL is right";
  }
}

/** SQLSTATE of a Bun.sql error (Bun puts it in errno). */
function sqlState(error: unknown): string {
  return String((error as { errno?: unknown })?.errno ?? (error as { code?: unknown })?.code ?? "");
}

function kindOf(state: string, text: string): PostgresFailureKind | undefined {
  if (state === "42P01" || /relation .*price_history.* does not exist/.test(text)) return "missing-table";
  if (state === "28P01" || /password authentication failed/i.test(text)) return "password";
  if (state === "3D000") return "no-database";
  if (state === "28000" || /role .* does not exist|no pg_hba/i.test(text)) return "user";
  if (state === "42501" && /price_history/.test(text)) return "no-grant";
  if (/ssl|encryption/i.test(text)) return "tls";
  if (/ECONNREFUSED|connect|timeout/i.test(text)) return "unreachable";
  return undefined;
}

/**
 * Says what a Bun.sql error means, or undefined when it is none of the failures users run into. `role` as in
 * {@link postgresFix}.
 * @example classifyPostgresError(error)?.fix // "run `bun run migrate` with this DATABASE_URL (...)"
 */
export function classifyPostgresError(error: unknown, role?: string): PostgresFailure | undefined {
  const kind = kindOf(sqlState(error), describeError(error));
  return kind && { kind, retriable: kind === "unreachable", fix: postgresFix(kind, role) };
}
