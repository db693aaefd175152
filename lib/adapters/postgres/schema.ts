/**
 * What price_history must look like — the columns of supabase/migrations/20261126000000_price_history.sql — and
 * the comparison of a live table against it. Shared by the Postgres (catalog) and Supabase (REST) checks.
 */

/** One expected column, with its type as Postgres' format_type() prints it. */
export interface ExpectedColumn {
  name: string;
  type: "text" | "numeric" | "timestamp with time zone";
  /** The consumer may insert null here, so a NOT NULL would break inserts. */
  nullable: boolean;
}

/** The migration's columns, in order (tests/doctor.test.ts checks this list against the migration file). */
export const EXPECTED_COLUMNS: readonly ExpectedColumn[] = [
  { name: "asset", type: "text", nullable: false },
  { name: "currency", type: "text", nullable: false },
  { name: "price", type: "numeric", nullable: false },
  { name: "market_cap", type: "numeric", nullable: true },
  { name: "volume_24h", type: "numeric", nullable: true },
  { name: "change_24h_pct", type: "numeric", nullable: true },
  { name: "source", type: "text", nullable: false },
  { name: "source_updated_at", type: "timestamp with time zone", nullable: false },
  { name: "fetched_at", type: "timestamp with time zone", nullable: false },
  { name: "inserted_at", type: "timestamp with time zone", nullable: false },
];

/** The key the consumer's `on conflict (...)` names; a primary key or unique index must cover exactly these. */
export const EXPECTED_KEY: readonly string[] = ["asset", "currency", "source_updated_at"];

/** A live column, from the catalog. */
export interface LiveColumn {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

/** One way the live table differs from the migration, and the SQL that fixes it. */
export interface SchemaProblem {
  problem: string;
  sql: string;
}

const TABLE = "public.price_history";

/**
 * Compares live columns and unique keys with the migration. Only differences that break the consumer count:
 * missing columns, other types, NOT NULL where the consumer sends null, extra NOT NULL columns without a default,
 * and no unique key for its `on conflict`.
 * @param uniqueKeys column lists of the primary key and every plain unique index
 */
export function compareSchema(
  columns: readonly LiveColumn[],
  uniqueKeys: readonly string[][],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const live = new Map(columns.map((c) => [c.name, c]));
  for (const want of EXPECTED_COLUMNS) {
    const have = live.get(want.name);
    if (!have) {
      problems.push({
        problem: `missing column ${want.name} (${want.type})`,
        sql: `alter table ${TABLE} add column ${want.name} ${want.type}${want.name === "inserted_at" ? " not null default now()" : ""}`,
      });
      continue;
    }
    if (have.type !== want.type)
      problems.push({
        problem: `column ${want.name} is ${have.type}, expected ${want.type}`,
        sql: `alter table ${TABLE} alter column ${want.name} type ${want.type} using ${want.name}::${want.type}`,
      });
    if (have.notNull && want.nullable)
      problems.push({
        problem: `column ${want.name} is NOT NULL, but CoinGecko sometimes has no value for it`,
        sql: `alter table ${TABLE} alter column ${want.name} drop not null`,
      });
  }
  const known = new Set(EXPECTED_COLUMNS.map((c) => c.name));
  for (const extra of columns)
    if (!known.has(extra.name) && extra.notNull && !extra.hasDefault)
      problems.push({
        problem: `extra column ${extra.name} is NOT NULL without a default, so every insert fails`,
        sql: `alter table ${TABLE} alter column ${extra.name} drop not null`,
      });
  const wanted = [...EXPECTED_KEY].sort().join(",");
  if (!uniqueKeys.some((key) => [...key].sort().join(",") === wanted))
    problems.push({
      problem: `no primary key on (${EXPECTED_KEY.join(", ")}), which the consumer's "on conflict" needs`,
      sql: `alter table ${TABLE} add primary key (${EXPECTED_KEY.join(", ")})`,
    });
  return problems;
}
