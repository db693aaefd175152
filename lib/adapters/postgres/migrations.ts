import priceHistory from "../../../supabase/migrations/20261126000000_price_history.sql" with {
  type: "text",
};
import realtime from "../../../supabase/realtime.sql" with { type: "text" };
import supabaseRoles from "../../../supabase/roles.sql" with { type: "text" };
import { splitStatements } from "./statements.ts";

/** A migration file of supabase/migrations, named `<version>_<name>.sql` as `supabase migration new` names it. */
export interface Migration {
  /** The file name, e.g. `20261126000000_price_history.sql`. */
  file: string;
  /** The digits before the first `_` (a UTC timestamp): the key of the CLI's history table. */
  version: string;
  /** The rest of the name, without `.sql`: what the CLI records as `name`. */
  name: string;
  /** The file's text. */
  sql: string;
  /** The statements the CLI runs one by one and records, split as it splits them. */
  statements: readonly string[];
}

/** The CLI's own reading of a migration file name (`^([0-9]+)_(.*)\.sql$`). */
const FILE_NAME = /^([0-9]+)_(.*)\.sql$/;

/**
 * A migration from its file name and text; throws on a name the CLI would not take as a migration.
 * @example migration("20261126000000_price_history.sql", sql).version // "20261126000000"
 */
export function migration(file: string, sql: string): Migration {
  const match = FILE_NAME.exec(file);
  if (!match) throw new Error(`${file}: a migration is named <version>_<name>.sql`);
  return {
    file,
    version: match[1] as string,
    name: match[2] as string,
    sql,
    statements: splitStatements(sql),
  };
}

/**
 * Every migration under supabase/migrations, in order; imported as text so compiled binaries carry them
 * (tests/migrations.test.ts checks that the list and the folder agree).
 */
export const MIGRATIONS: readonly Migration[] = [migration("20261126000000_price_history.sql", priceHistory)];

/**
 * Creates Supabase's anon, authenticated and service_role roles on plain Postgres, where they are missing:
 * supabase/roles.sql, the CLI's custom roles file (run by `supabase start` and `db reset`, and by `db push
 * --include-roles`), never a migration.
 */
export const SUPABASE_ROLES_SQL: string = supabaseRoles;

/** Opt-in: adds price_history to the supabase_realtime publication, creating it where missing (supabase/realtime.sql). */
export const REALTIME_SQL: string = realtime;
