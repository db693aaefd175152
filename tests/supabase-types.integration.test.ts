// lib/adapters/supabase/database.types.ts is `supabase gen types typescript` run on the migrated database
// (CLI 3.1.0, formatted by Biome). This test derives what the generator would write for price_history from
// the real table, with the generator's own rules, so a migration that changes a column fails here until the
// types are generated again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { EXPECTED_COLUMNS } from "../lib/adapters/postgres/schema.ts";
import { createTestDatabase, type TestDatabase } from "./support/stack.ts";

const TYPES = readFileSync(join(import.meta.dir, "../lib/adapters/supabase/database.types.ts"), "utf8");

/** One member of a generated object type: `name?: type`. */
interface Member {
  name: string;
  optional: boolean;
  type: string;
}

interface CatalogColumn {
  name: string;
  udt: string;
  nullable: boolean;
  hasDefault: boolean;
  identity: boolean;
}

/** The generator's mapping of Postgres types to TypeScript, for the types a table of ours may use. */
function tsType(udt: string): string {
  if (udt.startsWith("_")) return `${tsType(udt.slice(1))}[]`;
  if (udt === "bool") return "boolean";
  if (["int2", "int4", "int8", "float4", "float8", "numeric"].includes(udt)) return "number";
  if (["json", "jsonb"].includes(udt)) return "Json";
  const strings = ["bytea", "bpchar", "varchar", "date", "text", "citext", "time", "timetz", "timestamp"];
  if ([...strings, "timestamptz", "uuid", "vector"].includes(udt)) return "string";
  return "unknown";
}

/** What the generator writes for a table: columns by name, Insert optional where Postgres fills or allows null. */
function generated(columns: CatalogColumn[]): Record<"Row" | "Insert" | "Update", Member[]> {
  const sorted = [...columns].sort((a, b) => a.name.localeCompare(b.name));
  const type = (c: CatalogColumn) => `${tsType(c.udt)}${c.nullable ? " | null" : ""}`;
  return {
    Row: sorted.map((c) => ({ name: c.name, optional: false, type: type(c) })),
    Insert: sorted.map((c) => ({
      name: c.name,
      optional: c.nullable || c.identity || c.hasDefault,
      type: type(c),
    })),
    Update: sorted.map((c) => ({ name: c.name, optional: true, type: type(c) })),
  };
}

/** The members of `price_history.<kind>` in the types file. */
function written(kind: "Row" | "Insert" | "Update"): Member[] {
  const table = TYPES.slice(TYPES.indexOf("price_history: {"));
  const body = new RegExp(`\\b${kind}: \\{([^}]*)\\}`).exec(table)?.[1] ?? "";
  return body
    .split("\n")
    .map((line) => /^\s*(\w+)(\?)?: (.+?);?$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, name, optional, type]) => ({
      name: name as string,
      optional: optional === "?",
      type: type as string,
    }));
}

let database: TestDatabase;
let columns: CatalogColumn[];
let foreignKeys: number;

beforeAll(async () => {
  database = await createTestDatabase("supabase_types");
  await migratePostgres(database.url);
  const sql = new SQL(database.url, { max: 1 });
  try {
    columns = (await sql`
      select column_name as name, udt_name as udt, is_nullable = 'YES' as nullable,
             column_default is not null as "hasDefault", is_identity = 'YES' as identity
      from information_schema.columns
      where table_schema = 'public' and table_name = 'price_history'`) as CatalogColumn[];
    [{ n: foreignKeys }] = (await sql`
      select count(*)::int as n from information_schema.table_constraints
      where table_schema = 'public' and table_name = 'price_history' and constraint_type = 'FOREIGN KEY'`) as [
      { n: number },
    ];
  } finally {
    await sql.close();
  }
});
afterAll(async () => {
  await database?.drop();
});

test("the migrated table has the columns the doctor expects (the comparison below is not vacuous)", () => {
  expect(columns.map((c) => c.name).sort()).toEqual(EXPECTED_COLUMNS.map((c) => c.name).sort());
});

for (const kind of ["Row", "Insert", "Update"] as const)
  test(`price_history.${kind} is what the generator writes for the real table: names, types, nullability`, () => {
    expect(written(kind)).toEqual(generated(columns)[kind]);
  });

test("price_history has no relationships, like the table (no foreign key)", () => {
  expect(foreignKeys).toBe(0);
  expect(TYPES).toMatch(/price_history: \{[\s\S]*?Relationships: \[\];/);
});

test("public has no views, functions, enums or composite types, like the database", () => {
  for (const kind of ["Views", "Functions", "Enums", "CompositeTypes"])
    expect(TYPES).toContain(`${kind}: {\n      [_ in never]: never;\n    };`);
});
