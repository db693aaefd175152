import priceHistory from "../../../supabase/migrations/20261126000000_price_history.sql" with {
  type: "text",
};
import supabaseRoles from "../../../supabase/roles.sql" with { type: "text" };

/** A migration: its file name (the order) and its SQL. */
export interface Migration {
  name: string;
  sql: string;
}

/** Every migration under supabase/migrations, in order; imported as text so compiled binaries carry them. */
export const MIGRATIONS: readonly Migration[] = [
  { name: "20261126000000_price_history.sql", sql: priceHistory },
];

/** Creates Supabase's anon, authenticated and service_role roles on plain Postgres, where they are missing. */
export const SUPABASE_ROLES_SQL: string = supabaseRoles;
