/**
 * What Postgres failures mean, for the history store (SinkError) and the doctor (FAIL lines) alike: an
 * unreachable server is worth another attempt; a missing table, a wrong password or a missing grant is a setting.
 */
import { describeError, type Failure } from "../../errors.ts";

/** The fix per kind of failure; `role` is the role the grant names. */
const fixes = (role: string) => ({
  "missing-table":
    "run `bun run migrate` with this DATABASE_URL (or `supabase db push` on the linked project)",
  password: "check the password in DATABASE_URL",
  "no-database": "check the database name at the end of DATABASE_URL",
  user: "check the user in DATABASE_URL (and sslmode)",
  "no-grant": `grant select, insert on public.price_history to ${role} (or use the table owner in DATABASE_URL)`,
  tls: "add ?sslmode=require to DATABASE_URL",
  unreachable: "check that Postgres runs and DATABASE_URL is right",
});

/** Why a Postgres statement failed. */
export type PostgresFailureKind = keyof ReturnType<typeof fixes>;

/**
 * The fix for a failure of `kind`; `role` is the role the grant names. Default "the DATABASE_URL role".
 * @example postgresFix("password") // "check the password in DATABASE_URL"
 */
export function postgresFix(kind: PostgresFailureKind, role = "the DATABASE_URL role"): string {
  return fixes(role)[kind];
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
 * Says what a Bun.sql error means, or undefined when it is none of the failures users run into.
 * @example classifyPostgresError(error)?.fix // "run `bun run migrate` with this DATABASE_URL (...)"
 */
export function classifyPostgresError(error: unknown): Failure<PostgresFailureKind> | undefined {
  // Bun.sql puts the SQLSTATE in errno.
  const state = String((error as { errno?: unknown })?.errno ?? (error as { code?: unknown })?.code ?? "");
  const kind = kindOf(state, describeError(error));
  return kind && { kind, retriable: kind === "unreachable", fix: postgresFix(kind) };
}
