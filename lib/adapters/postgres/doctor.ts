/**
 * Postgres checks for DATABASE_URL, read from the catalog (nothing is written): reachable, credentials accepted,
 * price_history present with the migration's columns and key, row level security on, the anon and authenticated
 * roles without write privileges, and the DATABASE_URL role able to insert (the consumer writes as that role).
 *
 * "anon cannot write" is judged by privileges (has_table_privilege), not by RLS alone: the migration revokes
 * INSERT, UPDATE, DELETE and TRUNCATE from anon, and a grant is reported even while RLS still blocks it, because
 * RLS is then the last line (one permissive policy away from public writes) and TRUNCATE ignores RLS entirely.
 */
import { SQL } from "bun";
import { type Check, type CheckGroup, fail, ok, skip } from "../../checks/check.ts";
import { probeTcp } from "../../checks/tcp.ts";
import { describeError } from "../../errors.ts";
import { classifyPostgresError, type PostgresFailureKind, postgresFix } from "./failures.ts";
import { compareSchema, type LiveColumn } from "./schema.ts";

/** Read-only queries; Bun.sql in production, a fake in unit tests. */
interface PgQueries {
  query<T>(text: string): Promise<T[]>;
  close(): Promise<void>;
}

/** What the Postgres checks need from outside. */
interface PostgresCheckDeps {
  probe: typeof probeTcp;
  connect: (url: string) => PgQueries;
}

const defaultDeps: PostgresCheckDeps = {
  probe: probeTcp,
  connect: (url) => {
    const sql = new SQL({ url, max: 1, connectionTimeout: 5, idleTimeout: 5 });
    return {
      query: async <T>(text: string) => (await sql.unsafe(text)) as T[],
      close: () => sql.close({ timeout: 2 }),
    };
  },
};

const PROBE_TIMEOUT_MS = 5_000;
/** Roles whose keys are public on Supabase: anon (the browser key) and authenticated (any signed-up user). */
const PUBLIC_ROLES = ["anon", "authenticated"] as const;
const WRITES = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] as const;

/** A row of the public roles' write privileges. */
interface RoleWrites {
  role: string;
  insert: boolean;
  update: boolean;
  delete: boolean;
  truncate: boolean;
}

/** A row of pg_policies. */
interface Policy {
  name: string;
  roles: string[] | string;
  cmd: string;
}

const rolesOf = (policy: Policy): string[] =>
  Array.isArray(policy.roles) ? policy.roles : policy.roles.replace(/[{}"]/g, "").split(",").filter(Boolean);

/**
 * Judges the public roles' write privileges; returns the problem line or null when none holds any.
 * @param rls whether row level security is on
 * @param policies the table's policies (a write policy for a public role makes RLS let rows through)
 */
export function judgePublicWrites(rows: readonly RoleWrites[], rls: boolean, policies: readonly Policy[]) {
  const holders = rows
    .map((row) => ({
      role: row.role,
      privileges: WRITES.filter((w) => row[w.toLowerCase() as Lowercase<typeof w>]),
    }))
    .filter((h) => h.privileges.length > 0);
  if (holders.length === 0) return null;
  const listed = holders.map((h) => `${h.role} holds ${h.privileges.join(", ")}`).join("; ");
  const openPolicy = policies.some(
    (p) =>
      ["INSERT", "UPDATE", "DELETE", "ALL"].includes(p.cmd.toUpperCase()) &&
      rolesOf(p).some((r) => r === "public" || (PUBLIC_ROLES as readonly string[]).includes(r)),
  );
  const truncate = holders.some((h) => h.privileges.includes("TRUNCATE"));
  const exposure =
    !rls || openPolicy
      ? "anyone with the public key can write price history now"
      : truncate
        ? "TRUNCATE ignores row level security, so the public key can empty the table now"
        : "only row level security stops the public key from writing";
  return `${listed} on price_history: ${exposure}`;
}

/**
 * The Postgres check group: reach → sign in → table → columns → RLS → public roles → writer.
 * @example const group = postgresChecks(config.databaseUrl);
 */
export function postgresChecks(url: string, deps: Partial<PostgresCheckDeps> = {}): CheckGroup {
  const { probe, connect } = { ...defaultDeps, ...deps };
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = parsed.port ? Number(parsed.port) : 5432;
  const user = decodeURIComponent(parsed.username);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || user;
  let db: PgQueries | undefined;
  let rls = false;
  const q = <T>(text: string): Promise<T[]> => {
    if (!db) throw new Error("no Postgres connection");
    return db.query<T>(text);
  };

  const reach: Check = {
    id: "postgres.reach",
    title: `reach ${host}:${port}`,
    async run() {
      const result = await probe({ host, port }, PROBE_TIMEOUT_MS);
      if (result.ok) return ok(`reachable (${host}:${port})`);
      if (result.kind === "dns") return fail(`cannot resolve ${host}`, "check the host in DATABASE_URL");
      if (result.kind === "refused")
        return fail(
          `nothing listens on ${host}:${port} (connection refused)`,
          "check the host and port in DATABASE_URL",
        );
      return fail(`${host}:${port}: ${result.detail}`, "check DATABASE_URL and firewalls");
    },
  };

  const signIn: Check = {
    id: "postgres.sign-in",
    title: `sign in as ${user}`,
    needs: [reach.id],
    async run() {
      db = connect(url);
      let row: { user: string; db: string; version: string } | undefined;
      try {
        [row] = await q<{ user: string; db: string; version: string }>(
          `select current_user as "user", current_database() as db, current_setting('server_version') as version`,
        );
      } catch (error) {
        const text = describeError(error);
        const failure = classifyPostgresError(error);
        const said: Partial<Record<PostgresFailureKind, string>> = {
          password: `password rejected for user "${user}"`,
          "no-database": `database "${database}" does not exist`,
          user: `the server refused user "${user}": ${text}`,
          tls: `the server wants TLS: ${text}`,
        };
        const message = (failure && said[failure.kind]) ?? `sign-in failed: ${text}`;
        return fail(message, failure?.fix ?? "check DATABASE_URL");
      }
      return ok(`signed in as "${row?.user}" to database "${row?.db}" (PostgreSQL ${row?.version})`);
    },
  };

  const table: Check = {
    id: "postgres.table",
    title: "table price_history",
    needs: [signIn.id],
    async run() {
      const [found] = await q<{ rls: boolean }>(
        `select c.relrowsecurity as rls from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relname = 'price_history' and c.relkind in ('r', 'p')`,
      );
      if (!found)
        return fail(
          `table public.price_history does not exist in "${database}"`,
          postgresFix("missing-table"),
        );
      rls = found.rls;
      return ok(`table public.price_history exists`);
    },
  };

  const columns: Check = {
    id: "postgres.columns",
    title: "price_history columns",
    needs: [table.id],
    async run() {
      const live = await q<LiveColumn>(
        `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as "notNull",
                a.atthasdef as "hasDefault"
         from pg_attribute a
         where a.attrelid = 'public.price_history'::regclass and a.attnum > 0 and not a.attisdropped
         order by a.attnum`,
      );
      const keys = await q<{ columns: string[] | string }>(
        `select array(select a.attname::text from unnest(i.indkey) k join pg_attribute a
                      on a.attrelid = i.indrelid and a.attnum = k) as columns
         from pg_index i
         where i.indrelid = 'public.price_history'::regclass and i.indisunique and i.indpred is null
           and 0 <> all (i.indkey)`,
      );
      const uniqueKeys = keys.map((k) =>
        Array.isArray(k.columns) ? k.columns : k.columns.replace(/[{}"]/g, "").split(","),
      );
      const problems = compareSchema(live, uniqueKeys);
      if (problems.length === 0)
        return ok(`price_history has the migration's ${live.length} columns, types and primary key`);
      return fail(
        `price_history differs from the migration: ${problems.map((p) => p.problem).join("; ")}`,
        `${problems.map((p) => p.sql).join("; ")}`,
      );
    },
  };

  const rowSecurity: Check = {
    id: "postgres.rls",
    title: "row level security on price_history",
    needs: [table.id],
    async run() {
      if (rls) return ok("row level security is on for price_history");
      return fail(
        "row level security is off for price_history: the anon key bypasses every policy",
        "alter table public.price_history enable row level security",
      );
    },
  };

  const publicWrites: Check = {
    id: "postgres.anon",
    title: "anon cannot write price_history",
    needs: [table.id],
    async run() {
      const rows = await q<RoleWrites>(
        `select r.rolname as role,
                has_table_privilege(r.oid, 'public.price_history', 'INSERT') as insert,
                has_table_privilege(r.oid, 'public.price_history', 'UPDATE') as update,
                has_table_privilege(r.oid, 'public.price_history', 'DELETE') as delete,
                has_table_privilege(r.oid, 'public.price_history', 'TRUNCATE') as truncate
         from pg_roles r where r.rolname in (${PUBLIC_ROLES.map((r) => `'${r}'`).join(", ")})`,
      );
      if (rows.length === 0)
        return skip("anon cannot write price_history (not checked: no anon role, so this is not Supabase)");
      const policies = await q<Policy>(
        `select policyname as name, roles::text[] as roles, cmd from pg_policies
         where schemaname = 'public' and tablename = 'price_history'`,
      );
      const problem = judgePublicWrites(rows, rls, policies);
      if (problem)
        return fail(
          problem,
          `revoke insert, update, delete, truncate on public.price_history from ${PUBLIC_ROLES.join(", ")}`,
        );
      return ok(`${rows.map((r) => r.role).join(" and ")} cannot write price_history (no write privileges)`);
    },
  };

  const writer: Check = {
    id: "postgres.writer",
    title: "DATABASE_URL role may insert",
    needs: [table.id],
    async run() {
      const [row] = await q<{ who: string; insert: boolean; select: boolean }>(
        `select current_user as who, has_table_privilege('public.price_history', 'INSERT') as insert,
                has_table_privilege('public.price_history', 'SELECT') as select`,
      );
      if (row?.insert && row.select)
        return ok(`"${row.who}" may insert into and select from price_history (consumer)`);
      return fail(
        `"${row?.who}" may not ${row?.insert ? "select from" : "insert into"} price_history, so the consumer cannot store history`,
        postgresFix("no-grant", `"${row?.who}"`),
      );
    },
  };

  return {
    subject: "postgres",
    checks: [reach, signIn, table, columns, rowSecurity, publicWrites, writer],
    async close() {
      await db?.close();
    },
  };
}
