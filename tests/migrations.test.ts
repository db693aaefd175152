// How migrations are named and split: as the Supabase CLI names them (`supabase migration new`) and splits
// them before running and recording them, so `bun run migrate` records what `supabase db push` would. The
// cases are those of the CLI's own parser tests and what CLI 3.1.0 was seen to record (fixtures/supabase-cli).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS, migration } from "../lib/adapters/postgres/migrations.ts";
import { splitStatements } from "../lib/adapters/postgres/statements.ts";

const FOLDER = join(import.meta.dir, "../supabase/migrations");

/** What the CLI's split gives for `pieces` joined: each piece, trimmed as it trims them, empty ones gone. */
const asSplit = (pieces: string[]) =>
  pieces.map((p) => p.replace(/;+$/, "").trim()).filter((p) => p.length > 0);

/** Joins the pieces and expects them back, as the CLI's own parser tests do. */
function roundTrip(pieces: string[]) {
  expect(splitStatements(pieces.join(""))).toEqual(asSplit(pieces));
}

describe("splitStatements: where the Supabase CLI splits", () => {
  test("a semicolon ends a statement; trailing semicolons and whitespace go, empty statements too", () => {
    expect(splitStatements("select 1;select 2 ;\n\n  ;;\n")).toEqual(["select 1", "select 2"]);
    roundTrip(["BEGIN   ;", "  END"]);
    roundTrip([";", "END;", ";"]);
  });

  test("line comments hide semicolons up to the end of the line, and stay with the next statement", () => {
    roundTrip(["SELECT --; 1"]);
    roundTrip(["END;", "-- comment"]);
    roundTrip(["- ;", "END"]);
    roundTrip(["-- /* \n;", " */ END"]);
    expect(splitStatements("-- a; b\nselect 1;\n-- tail\n")).toEqual(["-- a; b\nselect 1", "-- tail"]);
  });

  test("block comments nest and hide semicolons", () => {
    roundTrip(["SELECT /* ; */ 1;"]);
    roundTrip(["SELECT /*; /*;*/ ;*/ 1"]);
    roundTrip(["/ * ;", " */ END"]);
  });

  test("quotes hide semicolons; a doubled quote stays inside; a backslash escapes outside quotes only", () => {
    roundTrip(["SELECT ';' 1"]);
    roundTrip(["SELECT ';'';' 1"]);
    roundTrip(["SELECT '\\';", " 1'"]);
    roundTrip(['CREATE POLICY "cats;dogs" on cats_dogs;', " END"]);
    roundTrip([`CREATE POLICY "cat's and dog's" on cats_dogs;`, " END"]);
    roundTrip(['CREATE POLICY "pet""name" on pets;', " END"]);
    roundTrip(["\\;;", "\\;"]);
  });

  test("only an E'…' string takes backslash escapes (E not inside a word); plain and double quotes do not", () => {
    roundTrip(["select E'it\\'s; x';", "\nselect 2"]);
    roundTrip(["select e'x\\'';", "\nselect 2"]);
    roundTrip(["select 'a\\';", "\nselect 2"]);
    roundTrip(['select 1 as "a\\";', "\nselect 2"]);
    roundTrip(["select name'a\\';", "\nselect 2"]);
  });

  test("dollar quotes, named or not, hide semicolons; a lone $ opens nothing", () => {
    roundTrip(["$tag$ any ; string$tag$"]);
    roundTrip(['$$"Dane\'s horse"$$']);
    roundTrip(['SELECT "$";', " $$"]);
    roundTrip(["do $$ begin perform 1; perform 2; end $$;", "\nselect $1;", " select 3"]);
  });

  test("parentheses hide semicolons, and the first ) closes them", () => {
    roundTrip(['CREATE RULE notify_me AS ON UPDATE TO mytable DO (NOTIFY mytable; SELECT "1");', "SELECT 1"]);
    roundTrip(["CREATE RULE notify_me AS ON UPDATE TO mytable DO (-- )\nSELECT ')';\n-- )\n)\n"]);
    // The CLI's quirk, kept so the records match: a nested ) closes both.
    expect(splitStatements("select ((1); 2)")).toEqual(["select ((1)", "2)"]);
  });

  test("a BEGIN ATOMIC body runs to its END word; atomic or end inside other words open or close nothing", () => {
    roundTrip([
      "CREATE FUNCTION add(a integer, b integer) RETURNS integer\nLANGUAGE SQL\nBEGIN ATOMIC\n\tSELECT 'add';\n\tSELECT a + b;\nEND;",
    ]);
    roundTrip(["begin atomic; select 'end'; end"]);
    roundTrip(["CREATE FUNCTION test() BEGIN\nATOMIC-- END;\n-- END;\nEND\n;"]);
    roundTrip([
      "create function f() returns int language sql\nbegin atomic\n  select legend from t;\n  select 1 as ending;\nend;",
      "\nselect 2",
    ]);
    roundTrip(["select 1 as atomic;", "\nselect 2"]);
    roundTrip(["select 1 as begin, 2 as atomic;", "\nselect 3"]);
    roundTrip(["create table public.atomic_test (id int);", "\nselect 1;"]);
    roundTrip(["select is_atomic from flags;", "\nselect 1;"]);
  });

  test("splits a sample as Supabase CLI 3.1.0 recorded it after `supabase db push` (39 statements)", () => {
    const fixtures = join(import.meta.dir, "fixtures/supabase-cli");
    const recorded = JSON.parse(readFileSync(join(fixtures, "split-sample.recorded.json"), "utf8"));
    expect(recorded.statements).toHaveLength(39);
    expect(splitStatements(readFileSync(join(fixtures, "split-sample.sql"), "utf8"))).toEqual(
      recorded.statements,
    );
  });

  test("the price_history migration: 8 statements, its comment's semicolon kept inside the last one", () => {
    const [first] = MIGRATIONS;
    expect(first?.statements).toHaveLength(8);
    expect(first?.statements[0]).toStartWith("-- Price history: one row per tick");
    expect(first?.statements[0]).toEndWith("primary key (asset, currency, source_updated_at)\n)");
    expect(first?.statements.at(-1)).toBe(
      "-- service_role bypasses RLS on Supabase; the grant is what lets it write.\n" +
        "grant select, insert, update, delete on public.price_history to service_role",
    );
  });
});

describe("supabase/migrations", () => {
  const files = readdirSync(FOLDER).sort();

  test("every file is named <14-digit UTC timestamp>_<name>.sql, as `supabase migration new` names it", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(file).toMatch(/^\d{14}_[a-z0-9_]+\.sql$/);
  });

  test("MIGRATIONS carries every file of the folder, in order, with its text", () => {
    expect(MIGRATIONS.map((m) => m.file)).toEqual(files);
    for (const m of MIGRATIONS) expect(m.sql).toBe(readFileSync(join(FOLDER, m.file), "utf8"));
  });

  test("a migration's version and name are read from its file name as the CLI reads them", () => {
    expect(migration("20261126000000_price_history.sql", "select 1")).toMatchObject({
      version: "20261126000000",
      name: "price_history",
      statements: ["select 1"],
    });
    expect(migration("1_a_b.sql", "").name).toBe("a_b");
    expect(() => migration("price_history.sql", "")).toThrow("<version>_<name>.sql");
  });
});
