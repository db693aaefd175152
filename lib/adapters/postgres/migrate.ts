/**
 * `bun run migrate`: applies supabase/migrations and records each one where the Supabase CLI records it,
 * `supabase_migrations.schema_migrations` (version, name, statements), so that `supabase db push` and this
 * command skip what the other applied, on the same database.
 */
import { SQL } from "bun";
import { failureOptions, SinkError } from "../../errors.ts";
import { classifyPostgresError } from "./failures.ts";
import { MIGRATIONS, type Migration, REALTIME_SQL, SUPABASE_ROLES_SQL } from "./migrations.ts";

// The CLI's own statements (pkg/migration/history.go), so that a database either tool set up has the same
// table; `if not exists` keeps a table the CLI or Supabase made, with any columns it added, as it is.
const CREATE_HISTORY = [
  "create schema if not exists supabase_migrations",
  "create table if not exists supabase_migrations.schema_migrations (version text not null primary key)",
  "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
  "alter table supabase_migrations.schema_migrations add column if not exists name text",
];

/** Where this command recorded migrations before it used the CLI's table; read and kept up to date where it exists. */
const LEGACY_TABLE = "belly_schema_migrations";

/** Serialises concurrent runs (a release command and a person, say), per transaction; any constant will do. */
const LOCK_KEY = 2026112614;

function migrationError(cause: unknown): SinkError {
  return new SinkError("history", "migration failed", {
    cause,
    ...failureOptions(classifyPostgresError(cause)),
  });
}

/**
 * Applies the migrations not yet applied, each in one transaction with its record in
 * `supabase_migrations.schema_migrations`; returns their file names. On plain Postgres it first creates
 * Supabase's standard roles where they are missing (supabase/roles.sql), so the same SQL runs everywhere.
 * A database migrated before by this command (belly_schema_migrations) has its records copied over, so
 * nothing runs twice; that table is still read, and still written while it exists, so an older release's
 * `--migrate` does not re-run what a newer one applied.
 * @example await migratePostgres("postgres://belly:belly@127.0.0.1:15432/belly") // ["20261126000000_price_history.sql"]
 */
export async function migratePostgres(
  url: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  const sql = new SQL({ url, max: 1 });
  try {
    // Under the lock too: two runs creating the same role or schema at once would collide.
    const legacy = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      await tx.unsafe(SUPABASE_ROLES_SQL);
      for (const statement of CREATE_HISTORY) await tx.unsafe(statement);
      const found = await hasLegacyTable(tx);
      if (found) await adoptLegacy(tx, migrations);
      return found;
    });
    const applied: string[] = [];
    for (const migration of migrations) {
      const ran = await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
        // Checked under the lock: another run may have applied it since.
        const [done] = await tx`
          select 1 from supabase_migrations.schema_migrations where version = ${migration.version}`;
        if (done) return false;
        // One statement at a time, as `supabase db push` sends them.
        for (const statement of migration.statements) await tx.unsafe(statement);
        await tx`
          insert into supabase_migrations.schema_migrations (version, name, statements)
          values (${migration.version}, ${migration.name}, ${tx.array([...migration.statements], "TEXT")})`;
        if (legacy)
          await tx`insert into ${tx(LEGACY_TABLE)} (name) values (${migration.file}) on conflict do nothing`;
        return true;
      });
      if (ran) applied.push(migration.file);
    }
    return applied;
  } catch (cause) {
    throw migrationError(cause);
  } finally {
    await sql.close({ timeout: 5 });
  }
}

/** Whether the old history table is there (found as the old code made it: unqualified, on the search path). */
async function hasLegacyTable(sql: SQL): Promise<boolean> {
  const [row] = await sql`select to_regclass(${LEGACY_TABLE}) is not null as found`;
  return Boolean(row?.found);
}

/**
 * Copies the old table's records into the CLI's, with the statements of the file when it is one of ours
 * (a name this release does not know is copied without statements, as `supabase migration repair` would).
 */
async function adoptLegacy(sql: SQL, migrations: readonly Migration[]): Promise<void> {
  const names = ((await sql`select name from ${sql(LEGACY_TABLE)}`) as { name: string }[]).map((r) => r.name);
  for (const file of names) {
    const match = /^([0-9]+)_(.*)\.sql$/.exec(file);
    if (!match) continue;
    const known = migrations.find((m) => m.file === file);
    const statements = known ? sql.array([...known.statements], "TEXT") : null;
    await sql`
      insert into supabase_migrations.schema_migrations (version, name, statements)
      values (${match[1]}, ${match[2]}, ${statements})
      on conflict (version) do nothing`;
  }
}

/** What {@link enableRealtime} found afterwards. */
export interface RealtimeResult {
  /** Whether price_history is now in the supabase_realtime publication. */
  published: boolean;
  /** The server's wal_level: Realtime reads the changes through logical decoding, which needs `logical`. */
  walLevel: string;
}

/**
 * Adds price_history to the supabase_realtime publication (supabase/realtime.sql), creating the publication
 * on plain Postgres; idempotent, recorded nowhere. Run after the migrations, which create the table.
 * @example const { published } = await enableRealtime(config.databaseUrl);
 */
export async function enableRealtime(url: string): Promise<RealtimeResult> {
  const sql = new SQL({ url, max: 1 });
  try {
    await sql.unsafe(REALTIME_SQL);
    const [row] = await sql`
      select exists (
        select from pg_publication p
        where p.pubname = 'supabase_realtime'
          and (p.puballtables or exists (select from pg_publication_tables t
            where t.pubname = p.pubname and t.schemaname = 'public' and t.tablename = 'price_history'))
      ) as published, current_setting('wal_level') as wal_level`;
    return { published: Boolean(row?.published), walLevel: String(row?.wal_level) };
  } catch (cause) {
    throw migrationError(cause);
  } finally {
    await sql.close({ timeout: 5 });
  }
}
