/**
 * What Supabase Data API (PostgREST) failures mean, for the history store (SinkError) and the doctor (FAIL
 * lines) alike: no answer or a paused project is worth another attempt; a missing table or column, a missing
 * grant or the wrong key is a setting to fix.
 */
import type { Failure } from "../../errors.ts";

/** Why a Supabase request failed; the fix of "key" names the variable holding the key that was sent. */
type SupabaseFailureKind = keyof typeof SUPABASE_HINTS | "unreachable" | "key";

/** What a failed request got back: the HTTP status (0 when nothing answered) and PostgREST's error fields. */
interface SupabaseAnswer {
  status: number;
  code?: string;
  message?: string;
  hint?: string | null;
}

/** The fix per kind of failure. */
export const SUPABASE_HINTS = {
  migration:
    "apply supabase/migrations: `supabase db push` on the linked project, or `bun run migrate` with DATABASE_URL set to its connection string; if it ran just now, reload the API's schema cache: notify pgrst, 'reload schema'",
  column: "price_history lacks a column: re-run the migration",
  serviceRole: "writes need SUPABASE_SERVICE_ROLE_KEY, not the anon key",
  readGrant: "grant select on public.price_history to anon, authenticated, service_role",
  url: "check SUPABASE_URL (https://<project-ref>.supabase.co, without /rest/v1) and that the project is not paused",
  unknownHost:
    "check SUPABASE_URL: its host does not exist; copy the Project URL (https://<project-ref>.supabase.co) from the Supabase dashboard",
  unavailable:
    "Supabase's API cannot reach its database right now: retry, or restore the paused project in the Supabase dashboard",
} as const;

function kindOf(answer: SupabaseAnswer, write: boolean): SupabaseFailureKind | undefined {
  const code = answer.code ?? "";
  const text = `${answer.message ?? ""} ${answer.hint ?? ""}`;
  if (code === "PGRST205" || code === "42P01") return "migration";
  if (code === "PGRST204" || code === "42703") return "column";
  if (code === "42501" || /row-level security/i.test(text)) return write ? "serviceRole" : "readGrant";
  if (answer.status === 404) return /route/i.test(text) ? "url" : "migration";
  if (
    answer.status === 401 ||
    answer.status === 403 ||
    code.startsWith("PGRST3") ||
    /JWT|JWS|API key/i.test(text)
  )
    return "key";
  // A name that does not resolve at all is a typo to fix; a resolver failing for now (EAI_AGAIN) is an outage.
  if (answer.status === 0 && /\bENOTFOUND\b/.test(text)) return "unknownHost";
  if (answer.status === 0) return "unreachable";
  if (answer.status >= 500 || code.startsWith("PGRST0")) return "unavailable";
  return undefined;
}

/**
 * Says what a failed request means, or undefined when it is none of the failures users run into. `write` tells
 * the write key from a read key; `keyName` is the variable holding the key that was sent.
 * @example classifySupabase({ status: 401, message: "Invalid API key" }, true, "SUPABASE_SERVICE_ROLE_KEY")?.fix
 * // "check SUPABASE_SERVICE_ROLE_KEY"
 */
export function classifySupabase(
  answer: SupabaseAnswer,
  write: boolean,
  keyName: string,
): Failure<SupabaseFailureKind> | undefined {
  const kind = kindOf(answer, write);
  if (!kind) return undefined;
  const fix =
    kind === "key" ? `check ${keyName}` : kind === "unreachable" ? SUPABASE_HINTS.url : SUPABASE_HINTS[kind];
  return { kind, retriable: kind === "unreachable" || kind === "unavailable", fix };
}
