/**
 * Supabase checks through its REST API (PostgREST), with plain fetch: reachable, keys accepted and of the right
 * role, price_history present with the migration's columns, and the anon key unable to insert.
 *
 * "anon cannot insert" is tested for real, with a probe row that cannot be stored whatever the policies say:
 * its primary-key columns are null (a primary key implies NOT NULL) and its price breaks `check (price > 0)`.
 * Postgres checks in a fixed order — table privilege, then row level security's WITH CHECK, then NOT NULL and
 * CHECK constraints — so the error code says which layer stopped the row: 42501 "permission denied" (no grant:
 * right), 42501 "row-level security" (a grant that only RLS blocks: reported), 23502/23514 (nothing but a
 * constraint stopped it: anon can write). `Prefer: tx=rollback` is sent too, so servers that allow it
 * (db-tx-end = commit-allow-override) also roll back; others ignore it, which is why the row itself must be
 * unstorable.
 * Rejected alternatives: POST [] inserts nothing and Postgres checks the grant even for zero rows, but it never
 * reaches RLS; a real row deleted afterwards with the service key would exist for a moment and be read by
 * the app's readers.
 */

import { type Check, type CheckGroup, fail, ok, skip } from "../../checks/check.ts";
import { type HttpAnswer as Answer, type Fetch, request } from "../../checks/http.ts";
import { describeError, excerpt } from "../../errors.ts";
import { EXPECTED_COLUMNS } from "../postgres/schema.ts";
import { classifySupabase, SUPABASE_HINTS } from "./failures.ts";
import { isJwt, keyRole } from "./keys.ts";

/** The Supabase settings the checks use. */
interface SupabaseSettings {
  url: string;
  anonKey: string | null;
  serviceRoleKey: string | null;
}

/** PostgREST's error fields, when the body is one. */
interface RestError {
  code?: string;
  message?: string;
  details?: string;
  hint?: string;
}

const TABLE_PATH = "/rest/v1/price_history";

/** A row that no table following the migration can store: null primary-key columns and a non-positive price. */
export const PROBE_ROW = {
  asset: null,
  currency: null,
  price: -1,
  source: "belly-doctor-probe",
  source_updated_at: "1970-01-01T00:00:00Z",
  fetched_at: "1970-01-01T00:00:00Z",
} as const;

function headersFor(key: string): Record<string, string> {
  // New sb_ keys go in apikey only; the gateway refuses them as a Bearer token, which must be a JWT.
  const headers: Record<string, string> = { apikey: key, accept: "application/json" };
  if (isJwt(key)) headers.authorization = `Bearer ${key}`;
  return headers;
}

const restError = (answer: Answer): RestError =>
  answer.body && typeof answer.body === "object" ? (answer.body as RestError) : {};

const summary = (answer: Answer): string => {
  const e = restError(answer);
  return e.message ? `${e.code ? `${e.code} ` : ""}${e.message}` : excerpt(answer.text, 120);
};

/** What a failed answer means, read with the key named `keyName` (see failures.ts). */
const failureOf = (answer: Answer, keyName: string) =>
  classifySupabase({ ...restError(answer), status: answer.status }, false, keyName);

/**
 * The Supabase check group: reach → keys → table and columns → anon cannot insert.
 * @example const group = supabaseChecks(config.supabase);
 */
export function supabaseChecks(settings: SupabaseSettings, fetchImpl: Fetch = fetch): CheckGroup {
  const base = settings.url.replace(/\/+$/, "");
  const host = new URL(base).host;
  const keys = [
    { name: "SUPABASE_SERVICE_ROLE_KEY", key: settings.serviceRoleKey, role: "service_role" },
    { name: "SUPABASE_ANON_KEY", key: settings.anonKey, role: "anon" },
  ].filter((k): k is { name: string; key: string; role: string } => Boolean(k.key));
  // The service key reads past RLS and sees the whole schema; the anon key is the fallback.
  const reader = keys[0];
  let tableMissing = false;
  let openapi:
    | { definitions?: Record<string, { properties?: Record<string, { format?: string }> }> }
    | undefined;

  const call = (path: string, key: string, signal: AbortSignal, init: RequestInit = {}) =>
    request(fetchImpl, `${base}${path}`, {
      ...init,
      headers: { ...headersFor(key), ...(init.headers as Record<string, string> | undefined) },
      signal,
    });

  const reach: Check = {
    id: "supabase.reach",
    title: `reach ${host}`,
    async run(signal) {
      if (!reader) throw new Error("no Supabase key");
      let answer: Answer;
      try {
        answer = await call("/rest/v1/", reader.key, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        return fail(`cannot reach ${host}: ${describeError(error)}`, SUPABASE_HINTS.url);
      }
      if (answer.status >= 500)
        return fail(`${host} answered HTTP ${answer.status}: ${summary(answer)}`, SUPABASE_HINTS.unavailable);
      if (answer.body === undefined && answer.status === 404)
        return fail(`no Supabase REST API at ${base}/rest/v1 (HTTP 404)`, SUPABASE_HINTS.url);
      if (answer.status === 200 && (answer.body as typeof openapi)?.definitions)
        openapi = answer.body as typeof openapi;
      return ok(`reachable (${host}, the REST API answers)`);
    },
  };

  const keyCheck: Check = {
    id: "supabase.keys",
    title: "Supabase keys",
    needs: [reach.id],
    async run(signal) {
      const accepted: string[] = [];
      for (const { name, key, role } of keys) {
        const actual = keyRole(key);
        if (name === "SUPABASE_ANON_KEY" && actual === "service_role")
          return fail(
            "SUPABASE_ANON_KEY holds a service_role key, which bypasses row level security and must never reach a browser",
            "put the anon (publishable) key from Project Settings → API in SUPABASE_ANON_KEY, and rotate the service key if it was shipped",
          );
        if (actual !== null && actual !== role)
          return fail(
            `${name} is a key for role "${actual}", not "${role}"`,
            `copy the ${role === "anon" ? "anon (publishable)" : "service_role (secret)"} key from Project Settings → API`,
          );
        const answer = await call(`${TABLE_PATH}?select=asset&limit=0`, key, signal);
        const failure = failureOf(answer, name);
        if (failure?.kind === "key")
          return fail(`${name} rejected (HTTP ${answer.status}: ${summary(answer)})`, failure.fix);
        accepted.push(`${name}${actual ? ` (role ${actual})` : ""}`);
      }
      return ok(`${accepted.join(" and ")} accepted`);
    },
  };

  const table: Check = {
    id: "supabase.table",
    title: "table price_history",
    needs: [keyCheck.id],
    async run(signal) {
      if (!reader) throw new Error("no Supabase key");
      const select = EXPECTED_COLUMNS.map((c) => c.name).join(",");
      const answer = await call(`${TABLE_PATH}?select=${select}&limit=0`, reader.key, signal);
      const failure = answer.status === 200 ? undefined : failureOf(answer, reader.name);
      tableMissing = failure?.kind === "migration";
      if (tableMissing)
        return fail(
          `table price_history not found through the REST API (${summary(answer)})`,
          SUPABASE_HINTS.migration,
        );
      if (failure?.kind === "column") {
        const column = /column (?:price_history\.)?"?(\w+)"? (?:does not exist|of)/.exec(
          restError(answer).message ?? "",
        )?.[1];
        const expected = EXPECTED_COLUMNS.find((c) => c.name === column);
        return fail(
          `price_history has no column ${column ?? "(unknown)"} (${summary(answer)})`,
          expected
            ? `alter table public.price_history add column ${expected.name} ${expected.type}; then notify pgrst, 'reload schema'`
            : failure.fix,
        );
      }
      if (answer.status === 401 || answer.status === 403)
        return fail(
          `${reader.name} may not read price_history (${summary(answer)})`,
          SUPABASE_HINTS.readGrant,
        );
      if (answer.status !== 200)
        return fail(
          `reading price_history answered HTTP ${answer.status}: ${summary(answer)}`,
          failure?.fix ?? SUPABASE_HINTS.migration,
        );
      const properties = openapi?.definitions?.price_history?.properties;
      if (!properties) return ok(`price_history has all ${EXPECTED_COLUMNS.length} expected columns`);
      const wrong = EXPECTED_COLUMNS.filter(
        (c) => properties[c.name]?.format && properties[c.name]?.format !== c.type,
      );
      if (wrong.length > 0)
        return fail(
          `price_history column types differ: ${wrong.map((c) => `${c.name} is ${properties[c.name]?.format}, expected ${c.type}`).join("; ")}`,
          wrong
            .map(
              (c) =>
                `alter table public.price_history alter column ${c.name} type ${c.type} using ${c.name}::${c.type}`,
            )
            .join("; "),
        );
      return ok(`price_history has all ${EXPECTED_COLUMNS.length} expected columns with the expected types`);
    },
  };

  const anonWrite: Check = {
    id: "supabase.anon-write",
    title: "anon cannot insert into price_history",
    // Not after the column check: a missing column must not hide a table the public key can write to.
    needs: [keyCheck.id],
    async run(signal) {
      if (!settings.anonKey)
        return skip("anon cannot insert into price_history (not checked: SUPABASE_ANON_KEY not set)");
      if (tableMissing)
        return skip("anon cannot insert into price_history (not checked: the table is missing)");
      const answer = await call(TABLE_PATH, settings.anonKey, signal, {
        method: "POST",
        headers: { "content-type": "application/json", prefer: "return=minimal, tx=rollback" },
        body: JSON.stringify(PROBE_ROW),
      });
      const error = restError(answer);
      const revoke =
        "revoke insert, update, delete, truncate on public.price_history from anon, authenticated";
      if (error.code === "42501" && /row-level security/i.test(error.message ?? ""))
        return fail(
          "anon holds INSERT on price_history; only row level security stopped the probe row",
          revoke,
        );
      if (error.code === "42501")
        return ok("anon cannot insert into price_history (permission denied; the probe row was refused)");
      if (/^2[23]/.test(error.code ?? ""))
        return fail(
          `anon CAN write price_history: the probe row passed privileges and row level security, and only a constraint stopped it (${summary(answer)})`,
          `${revoke}; alter table public.price_history enable row level security`,
        );
      if (answer.status >= 200 && answer.status < 300)
        return fail(
          "anon inserted the probe row: price_history accepts rows from the public key, and lacks the migration's primary key",
          `${revoke}; ${SUPABASE_HINTS.migration}`,
        );
      return fail(
        `the anon insert probe got HTTP ${answer.status}: ${summary(answer)}`,
        "check the table and its policies in the Supabase dashboard",
      );
    },
  };

  return { subject: "supabase", checks: [reach, keyCheck, table, anonWrite] };
}
