// `bun run migrate` records its migrations where the Supabase CLI records them, on the real Postgres: the rows
// of supabase_migrations.schema_migrations are the ones `supabase db push` would insert, a database migrated
// by the old belly_schema_migrations or by the CLI runs nothing twice, and a failed migration records nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { MIGRATIONS, migration, SUPABASE_ROLES_SQL } from "../lib/adapters/postgres/migrations.ts";
import { splitStatements } from "../lib/adapters/postgres/statements.ts";
import { startEntry } from "./support/processes.ts";
import { createTestDatabase, type TestDatabase } from "./support/stack.ts";

const FOLDER = join(import.meta.dir, "../supabase/migrations");
const databases: TestDatabase[] = [];

async function freshDatabase(prefix: string): Promise<TestDatabase> {
  const database = await createTestDatabase(prefix);
  databases.push(database);
  return database;
}

async function withSql<T>(url: string, work: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(url, { max: 1 });
  try {
    return await work(sql);
  } finally {
    await sql.close();
  }
}

/** The rows `supabase db push` inserts for the folder, read from the files themselves. */
function cliRows() {
  return readdirSync(FOLDER)
    .sort()
    .map((file) => {
      const [, version, name] = /^([0-9]+)_(.*)\.sql$/.exec(file) as unknown as [string, string, string];
      return { version, name, statements: splitStatements(readFileSync(join(FOLDER, file), "utf8")) };
    });
}

const historyRows = (sql: SQL) =>
  sql`select version, name, statements from supabase_migrations.schema_migrations order by version`;

const tableExists = async (sql: SQL, name: string) =>
  ((await sql`select to_regclass(${name}) is not null as found`) as { found: boolean }[])[0]?.found;

afterAll(async () => {
  for (const database of databases) await database.drop();
});

describe("bun run migrate on a fresh database", () => {
  test("applies the folder and records it in supabase_migrations.schema_migrations as the CLI would", async () => {
    const database = await freshDatabase("cli_history");
    const run = startEntry("scripts/migrate.ts", { DATABASE_URL: database.url });
    expect(await run.exited).toBe(0);
    expect(run.lines).toEqual([
      "applied: 20261126000000_price_history.sql (recorded in supabase_migrations.schema_migrations)",
    ]);
    await withSql(database.url, async (sql) => {
      const rows = await historyRows(sql);
      expect(rows).toEqual(cliRows());
      console.log(`schema_migrations after bun run migrate:\n${JSON.stringify(rows, null, 2)}`);
      // The CLI's columns and key, so `supabase db push` and `migration list` read this table as theirs.
      expect(
        await sql`select column_name, data_type, is_nullable from information_schema.columns
          where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position`,
      ).toEqual([
        { column_name: "version", data_type: "text", is_nullable: "NO" },
        { column_name: "statements", data_type: "ARRAY", is_nullable: "YES" },
        { column_name: "name", data_type: "text", is_nullable: "YES" },
      ]);
      expect(await tableExists(sql, "public.price_history")).toBe(true);
      expect(await tableExists(sql, "belly_schema_migrations")).toBe(false);
    });
    const again = startEntry("scripts/migrate.ts", { DATABASE_URL: database.url });
    expect(await again.exited).toBe(0);
    expect(again.lines).toEqual(["up to date: no migration to apply"]);
  });

  test("an unknown argument is refused with the usage, before connecting", async () => {
    const run = startEntry("scripts/migrate.ts", { DATABASE_URL: "postgres://nobody@127.0.0.1:1/x" }, [
      "--nope",
    ]);
    expect(await run.exited).toBe(2);
    expect(run.lines).toEqual(["usage: bun run migrate [--realtime] (unknown: --nope)"]);
  });

  test("two runs at once apply each migration once", async () => {
    const database = await freshDatabase("cli_race");
    const [a, b] = await Promise.all([migratePostgres(database.url), migratePostgres(database.url)]);
    expect([...(a ?? []), ...(b ?? [])]).toEqual(MIGRATIONS.map((m) => m.file));
    await withSql(database.url, async (sql) => expect(await historyRows(sql)).toEqual(cliRows()));
  });
});

describe("a database migrated before", () => {
  test("by the old belly_schema_migrations: nothing re-runs, the record is copied, the old table kept current", async () => {
    const database = await freshDatabase("cli_legacy");
    const [first] = MIGRATIONS;
    await withSql(database.url, async (sql) => {
      // What the previous `bun run migrate` did.
      await sql.unsafe(SUPABASE_ROLES_SQL);
      await sql.unsafe(first?.sql as string);
      await sql`create table belly_schema_migrations (name text primary key, applied_at timestamptz not null default now())`;
      await sql`insert into belly_schema_migrations (name) values (${first?.file as string})`;
      // A mark a re-run would erase: the migration sets the table's comment.
      await sql`comment on table public.price_history is 'left by hand'`;
    });
    const later = migration("20261201000000_later.sql", "create table public.later (id int);");
    expect(await migratePostgres(database.url, [...MIGRATIONS, later])).toEqual([later.file]);
    await withSql(database.url, async (sql) => {
      expect(await historyRows(sql)).toEqual([
        ...cliRows(),
        { version: "20261201000000", name: "later", statements: ["create table public.later (id int)"] },
      ]);
      expect(
        ((await sql`select name from belly_schema_migrations order by name`) as { name: string }[]).map(
          (r) => r.name,
        ),
      ).toEqual([first?.file as string, later.file]);
      // The migration did not run again: its comment would have replaced this one.
      const [comment] = await sql`select obj_description('public.price_history'::regclass) as text`;
      expect(comment?.text).toBe("left by hand");
    });
  });

  test("by `supabase db push`: nothing re-runs, and no table of ours appears", async () => {
    const database = await freshDatabase("cli_pushed");
    await withSql(database.url, async (sql) => {
      // What the CLI does: its history table, then each statement and the record in one batch.
      await sql`create schema supabase_migrations`;
      await sql`create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text)`;
      await sql.unsafe(SUPABASE_ROLES_SQL);
      for (const row of cliRows()) {
        for (const statement of row.statements) await sql.unsafe(statement);
        await sql`insert into supabase_migrations.schema_migrations (version, name, statements)
          values (${row.version}, ${row.name}, ${sql.array(row.statements, "TEXT")})`;
      }
      await sql`comment on table public.price_history is 'pushed'`;
    });
    expect(await migratePostgres(database.url)).toEqual([]);
    await withSql(database.url, async (sql) => {
      expect(await historyRows(sql)).toEqual(cliRows());
      expect(await tableExists(sql, "belly_schema_migrations")).toBe(false);
      const [comment] = await sql`select obj_description('public.price_history'::regclass) as text`;
      expect(comment?.text).toBe("pushed");
    });
  });
});

test("a migration that fails leaves neither its changes nor its record, and the error says which", async () => {
  const database = await freshDatabase("cli_broken");
  const broken = migration("20261202000000_broken.sql", "create table public.half (id int);\nselect 1/0;");
  const error = await migratePostgres(database.url, [...MIGRATIONS, broken]).catch((e: unknown) => e);
  expect(String((error as Error).cause)).toContain("division by zero");
  await withSql(database.url, async (sql) => {
    expect(await historyRows(sql)).toEqual(cliRows());
    expect(await tableExists(sql, "public.half")).toBe(false);
  });
});

describe("bun run migrate --realtime", () => {
  const published = (sql: SQL) =>
    sql`select pubname, schemaname, tablename from pg_publication_tables where pubname = 'supabase_realtime'`;

  test("adds price_history to the supabase_realtime publication, creating it on plain Postgres; again is a no-op", async () => {
    const database = await freshDatabase("cli_realtime");
    for (let round = 0; round < 2; round++) {
      const run = startEntry("scripts/migrate.ts", { DATABASE_URL: database.url }, ["--realtime"]);
      expect(await run.exited).toBe(0);
      expect(run.lines).toContain("realtime: price_history is in publication supabase_realtime");
    }
    await withSql(database.url, async (sql) => {
      const rows = await published(sql);
      console.log(`pg_publication_tables after bun run migrate --realtime:\n${JSON.stringify(rows)}`);
      expect(rows).toEqual([
        { pubname: "supabase_realtime", schemaname: "public", tablename: "price_history" },
      ]);
      // Not a migration: the CLI's history holds the migrations only.
      expect(await historyRows(sql)).toEqual(cliRows());
    });
  });

  test("joins a publication that exists already (a Supabase project's), and is opt-in", async () => {
    const database = await freshDatabase("cli_realtime_existing");
    await withSql(database.url, (sql) => sql`create publication supabase_realtime`);
    const plain = startEntry("scripts/migrate.ts", { DATABASE_URL: database.url });
    expect(await plain.exited).toBe(0);
    await withSql(database.url, async (sql) => expect(await published(sql)).toEqual([]));
    const run = startEntry("scripts/migrate.ts", { DATABASE_URL: database.url }, ["--realtime"]);
    expect(await run.exited).toBe(0);
    await withSql(database.url, async (sql) =>
      expect(await published(sql)).toEqual([
        { pubname: "supabase_realtime", schemaname: "public", tablename: "price_history" },
      ]),
    );
  });
});

describe("the seed of config.toml's [db.seed], as `supabase db reset` runs it after the migrations", () => {
  const SUPABASE = join(import.meta.dir, "../supabase");
  const config = Bun.TOML.parse(readFileSync(join(SUPABASE, "config.toml"), "utf8")) as {
    db: { seed: { sql_paths: string[] } };
  };
  /** Each seed file, split and run statement by statement in one transaction, as the CLI sends it. */
  const seed = (url: string) =>
    withSql(url, (sql) =>
      sql.begin(async (tx) => {
        for (const path of config.db.seed.sql_paths)
          for (const statement of splitStatements(readFileSync(join(SUPABASE, path), "utf8")))
            await tx.unsafe(statement);
      }),
    );

  test("passes on the migrated database and stores no price", async () => {
    const database = await freshDatabase("cli_seed");
    await migratePostgres(database.url);
    await seed(database.url);
    await withSql(database.url, async (sql) =>
      expect(await sql`select count(*)::int as n from price_history`).toEqual([{ n: 0 }]),
    );
  });

  test("stops a reset whose database lets the anon key write, or lacks the table, and says so", async () => {
    const database = await freshDatabase("cli_seed_bad");
    expect(String(await seed(database.url).catch((e: unknown) => e))).toContain(
      "seed: public.price_history is missing",
    );
    await migratePostgres(database.url);
    await withSql(database.url, (sql) => sql`grant insert on public.price_history to anon`);
    expect(String(await seed(database.url).catch((e: unknown) => e))).toContain(
      "seed: anon may insert into public.price_history",
    );
  });
});
