/**
 * Test-only stand-in for Supabase's Data API (Kong gateway + PostgREST) over a real Postgres, so that
 * supabase-js runs unmodified against the real migration, grants and row-level security. Never shipped.
 *
 * Emulated, after PostgREST's documentation:
 * - https://docs.postgrest.org/en/latest/references/api/tables_views.html: `GET|HEAD /rest/v1/<table>` with
 *   `select=a,b`, horizontal filters `col=[not.]eq|neq|gt|gte|lt|lte.value` and `is.null|true|false`,
 *   `order=col.asc|desc[.nullsfirst|.nullslast]`, `limit`, `offset` or a `Range: 0-9` header;
 *   `POST` of a JSON object or array with `columns=` and `on_conflict=`.
 * - https://docs.postgrest.org/en/latest/references/api/preferences.html: `Prefer: return=representation|minimal`,
 *   `resolution=ignore-duplicates|merge-duplicates` (ON CONFLICT on `on_conflict` or the primary key),
 *   `count=exact` (Content-Range `0-9/42`). Every read is capped at `maxRows` rows, like `db-max-rows`
 *   (1000 on Supabase).
 * - https://docs.postgrest.org/en/latest/references/errors.html: `{code, details, hint, message}` bodies;
 *   SQLSTATEs mapped to statuses by its table (23505 -> 409, 42P01 -> 404, 42501 -> 401 for the anonymous role
 *   and 403 otherwise, other -> 400); PGRST205 (404, unknown table), PGRST204 (400, unknown `columns` entry),
 *   PGRST102 (400, bad body), PGRST100 (400, unparsable query), PGRST301 (401, bad JWT).
 * - Supabase's gateway: a missing or unknown `apikey` gets 401 `{message, hint}` without a code.
 * - Roles: each request runs in one transaction (read only for GET/HEAD) as `SET LOCAL ROLE anon|service_role`
 *   with `request.jwt.claims` set, so the real grants and policies decide, as with PostgREST's authenticator.
 *
 * Not emulated: JWT verification (keys are compared as opaque strings), the `authenticated` role, embedding,
 * `in`/`like`/full-text filters, casts and aliases in `select`, RPC, PATCH/PUT/DELETE, `missing=default`,
 * `Prefer: handling`, CSV, `Accept: application/vnd.pgrst.object+json`, schemas other than `public`, and the
 * schema cache's staleness (the bridge reads the catalog on every request, while PostgREST needs a reload).
 * Identifiers are checked against a regex and quoted; every value is a bound parameter.
 */
import { SQL } from "bun";

/** An API role a key maps to. */
export type BridgeRole = "anon" | "service_role";

/** One request the bridge received, for assertions on what supabase-js sent. */
export interface BridgeRequest {
  method: string;
  path: string;
  search: string;
  prefer: string | null;
  /** The role the key mapped to; null when the key was refused. */
  role: BridgeRole | null;
}

/** A running bridge: `url` is what createClient takes as the Supabase URL. */
export interface PostgrestBridge {
  url: string;
  requests: BridgeRequest[];
  stop(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(["select", "order", "limit", "offset", "columns", "on_conflict", "apikey"]);
// Maps, not object literals, so that "constructor" and friends are not operators.
const OPERATORS = new Map(Object.entries({ eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" }));
const ORDER_WORDS = new Map(
  Object.entries({ asc: "asc", desc: "desc", nullsfirst: "nulls first", nullslast: "nulls last" }),
);
// PostgREST's SQLSTATE (or class) -> status table; anything else is 400.
const STATUS = new Map(
  (
    "23503:409 23505:409 25006:405 42883:404 42P01:404 42P17:500 53400:500 P0001:400 08:503 09:500 0L:403 " +
    "0P:403 25:500 28:403 2D:500 38:500 39:500 3B:500 40:500 53:503 54:500 55:500 57:500 58:500 F0:500 HV:500 " +
    "P0:500 XX:500"
  )
    .split(" ")
    .map((pair) => [pair.slice(0, pair.indexOf(":")), Number(pair.slice(pair.indexOf(":") + 1))] as const),
);

/** A refusal with the status and JSON body the real service would send. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

const pgrst = (status: number, code: string, message: string, details: string | null = null) =>
  new Refusal(status, { code, details, hint: null, message });

/** Quotes a validated identifier; anything else is a parse error, never SQL. */
function ident(name: string): string {
  if (!IDENT.test(name)) throw pgrst(400, "PGRST100", `"failed to parse" (${name.slice(0, 60)})`);
  return `"${name}"`;
}

const unquote = (name: string) => name.trim().replace(/^"(.*)"$/, "$1");

/** PostgREST's SQLSTATE -> HTTP status table; 42501 depends on whether the role is the anonymous one. */
export function postgrestStatus(code: string, role: BridgeRole | null): number {
  if (code === "42501") return role === "service_role" ? 403 : 401;
  return STATUS.get(code) ?? STATUS.get(code.slice(0, 2)) ?? 400;
}

/**
 * Starts the bridge on 127.0.0.1 (random port), connected as the database owner, which switches role per request.
 * Default `maxRows` 1000, like Supabase's `db-max-rows`.
 * @example const bridge = await startPostgrestBridge({ databaseUrl, anonKey: "anon", serviceRoleKey: "service" });
 */
export async function startPostgrestBridge(options: {
  databaseUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  maxRows?: number;
}): Promise<PostgrestBridge> {
  const sql = new SQL({ url: options.databaseUrl, max: 4 });
  const maxRows = options.maxRows ?? 1000;
  const keys = new Map<string, BridgeRole>([
    [options.anonKey, "anon"],
    [options.serviceRoleKey, "service_role"],
  ]);
  const requests: BridgeRequest[] = [];

  function roleOf(request: Request, url: URL): BridgeRole {
    const apikey = request.headers.get("apikey") ?? url.searchParams.get("apikey");
    if (!apikey)
      throw new Refusal(401, {
        message: "No API key found in request",
        hint: "No apikey request header or url param was found.",
      });
    const gateway = keys.get(apikey);
    if (!gateway)
      throw new Refusal(401, {
        message: "Invalid API key",
        hint: "Double check your Supabase `anon` or `service_role` API key.",
      });
    const bearer = /^Bearer (.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (bearer === undefined) return gateway;
    const role = keys.get(bearer);
    if (!role) throw pgrst(401, "PGRST301", "JWSError JWSInvalidSignature");
    return role;
  }

  /** The schema cache, read live: column name -> whether it is part of the primary key. */
  async function columnsOf(table: string): Promise<Map<string, boolean>> {
    const rows: { name: string; pk: boolean }[] = await sql`
      select a.attname as name,
             exists (select from pg_index i where i.indrelid = c.oid and i.indisprimary
                     and a.attnum = any (i.indkey)) as pk
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = 'public' and c.relname = ${table} and c.relkind in ('r', 'v', 'm', 'p', 'f')
      order by a.attnum`;
    if (rows.length === 0)
      throw pgrst(404, "PGRST205", `Could not find the table 'public.${table}' in the schema cache`);
    return new Map(rows.map((row) => [row.name, row.pk]));
  }

  function inRole<T>(role: BridgeRole, readOnly: boolean, work: (tx: SQL) => Promise<T>): Promise<T> {
    return sql.begin(readOnly ? "read only" : "read write", async (tx) => {
      await tx.unsafe(`set local role ${role}`); // role is one of two literals, never request text
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role })}, true),
                      set_config('timezone', 'UTC', true)`;
      return work(tx);
    }) as Promise<T>;
  }

  const selectList = (param: string | null, relation: string) =>
    !param || param === "*"
      ? "*"
      : param
          .split(",")
          .map((column) => `${ident(relation)}.${ident(unquote(column))}`)
          .join(", ");

  function filter(column: string, raw: string, params: unknown[]): string {
    const match = /^(not\.)?([a-z]+)\.(.*)$/s.exec(raw);
    const [, not, operator = "", value = ""] = match ?? [];
    let clause: string;
    const sign = OPERATORS.get(operator);
    if (sign) {
      params.push(value); // sent untyped, so Postgres infers the column's type as PostgREST lets it
      clause = `${ident(column)} ${sign} $${params.length}`;
    } else if (operator === "is" && /^(null|true|false|unknown)$/i.test(value)) {
      clause = `${ident(column)} is ${value.toLowerCase()}`;
    } else throw pgrst(400, "PGRST100", `"failed to parse filter (${raw.slice(0, 60)})"`);
    return not ? `not (${clause})` : clause;
  }

  function orderBy(param: string | null): string {
    if (!param) return "";
    const terms = param.split(",").map((term) => {
      const [column = "", ...modifiers] = term.split(".");
      const words = modifiers.map((modifier) => ORDER_WORDS.get(modifier));
      if (words.some((w) => w === undefined))
        throw pgrst(400, "PGRST100", `"failed to parse order (${term})"`);
      return [ident(column), ...words].join(" ");
    });
    return ` order by ${terms.join(", ")}`;
  }

  function window(url: URL, range: string | null): { limit: number; offset: number } {
    const int = (name: string) => {
      const raw = url.searchParams.get(name);
      if (raw === null) return undefined;
      if (!/^\d+$/.test(raw)) throw pgrst(400, "PGRST100", `"failed to parse ${name} (${raw.slice(0, 20)})"`);
      return Number(raw);
    };
    let limit = int("limit");
    let offset = int("offset") ?? 0;
    const bounds = range ? /^(\d+)-(\d*)$/.exec(range) : null;
    if (bounds && limit === undefined && offset === 0) {
      offset = Number(bounds[1]);
      if (bounds[2]) limit = Number(bounds[2]) - offset + 1;
    }
    return { limit: Math.min(limit ?? maxRows, maxRows), offset };
  }

  async function read(request: Request, url: URL, table: string, role: BridgeRole): Promise<Response> {
    const params: unknown[] = [];
    const where = [...url.searchParams]
      .filter(([key]) => !RESERVED.has(key))
      .map(([key, raw]) => filter(key, raw, params));
    const from = `from "public".${ident(table)}${where.length ? ` where ${where.join(" and ")}` : ""}`;
    const { limit, offset } = window(url, request.headers.get("range"));
    const source = `select ${selectList(url.searchParams.get("select"), table)} ${from}${orderBy(url.searchParams.get("order"))} limit ${limit} offset ${offset}`;
    return inRole(role, true, async (tx) => {
      const [page] = await tx.unsafe(
        `with pgrst_source as (${source}) select coalesce(json_agg(_postgrest_t), '[]')::text as body,
         count(*)::int as rows from pgrst_source _postgrest_t`,
        params,
      );
      const exact = /count=exact/.test(request.headers.get("prefer") ?? "");
      const total = exact ? (await tx.unsafe(`select count(*)::int as n ${from}`, params))[0].n : "*";
      const shown = page.rows > 0 ? `${offset}-${offset + page.rows - 1}` : "*";
      return json(request.method === "HEAD" ? null : page.body, 200, {
        "Content-Range": `${shown}/${total}`,
      });
    });
  }

  async function write(request: Request, url: URL, table: string, role: BridgeRole): Promise<Response> {
    const columns = await columnsOf(table);
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      throw pgrst(400, "PGRST102", "Empty or invalid json");
    }
    const rows = Array.isArray(body) ? body : [body];
    if (!rows.every((row) => row !== null && typeof row === "object" && !Array.isArray(row)))
      throw pgrst(400, "PGRST102", "All object keys must match");
    const listed = url.searchParams.get("columns")?.split(",").map(unquote) ?? Object.keys(rows[0] ?? {});
    for (const column of listed)
      if (!columns.has(column))
        throw pgrst(
          400,
          "PGRST204",
          `Could not find the '${column}' column of '${table}' in the schema cache`,
        );
    const prefer = request.headers.get("prefer") ?? "";
    const resolution = /resolution=(ignore|merge)-duplicates/.exec(prefer)?.[1];
    const target = (
      url.searchParams.get("on_conflict")?.split(",").map(unquote) ??
      [...columns].filter(([, pk]) => pk).map(([name]) => name)
    ).map(ident);
    const names = listed.map(ident).join(", ");
    const conflict =
      resolution === "ignore"
        ? ` on conflict (${target}) do nothing`
        : resolution === "merge"
          ? ` on conflict (${target}) do update set ${listed.map((c) => `${ident(c)} = excluded.${ident(c)}`)}`
          : "";
    return inRole(role, false, async (tx) => {
      const [result] = await tx.unsafe(
        `with pgrst_source as (
           insert into "public".${ident(table)} (${names})
           select ${names} from json_populate_recordset(null::"public".${ident(table)}, $1::text::json) _${conflict}
           returning *)
         select coalesce(json_agg(_postgrest_t), '[]')::text as body, count(*)::int as rows
         from (select ${selectList(url.searchParams.get("select"), "pgrst_source")} from pgrst_source) _postgrest_t`,
        [JSON.stringify(rows)],
      );
      const represent = /return=representation/.test(prefer);
      return json(represent ? result.body : null, 201, { "Content-Range": `*/${result.rows}` });
    });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const entry: BridgeRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      prefer: request.headers.get("prefer"),
      role: null,
    };
    requests.push(entry);
    let role: BridgeRole | null = null;
    try {
      role = entry.role = roleOf(request, url);
      const table = decodeURIComponent(/^\/rest\/v1\/([^/]+)$/.exec(url.pathname)?.[1] ?? "");
      if (!table) throw pgrst(404, "PGRST125", "Invalid path specified in request URL");
      if (!IDENT.test(table))
        throw pgrst(404, "PGRST205", `Could not find the table 'public.${table}' in the schema cache`);
      if (request.method === "GET" || request.method === "HEAD") {
        await columnsOf(table);
        return await read(request, url, table, role);
      }
      if (request.method === "POST") return await write(request, url, table, role);
      throw pgrst(405, "PGRST117", `Unsupported HTTP method: ${request.method}`);
    } catch (error) {
      if (error instanceof Refusal)
        return json(request.method === "HEAD" ? null : JSON.stringify(error.body), error.status);
      const pg = error as { errno?: unknown; detail?: string; hint?: string; message?: string };
      const code = typeof pg.errno === "string" ? pg.errno : "PGRSTX00";
      const body = { code, details: pg.detail ?? null, hint: pg.hint ?? null, message: String(pg.message) };
      const status = code === "PGRSTX00" ? 500 : postgrestStatus(code, role);
      return json(request.method === "HEAD" ? null : JSON.stringify(body), status);
    }
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    async stop() {
      await server.stop(true);
      await sql.close({ timeout: 5 });
    },
  };
}

function json(body: string | null, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}
