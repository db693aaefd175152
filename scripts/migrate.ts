// `bun run migrate`: applies supabase/migrations to DATABASE_URL (plain Postgres or Supabase's direct connection).
import { configOrExit } from "../lib/config.ts";
import { describeError } from "../lib/errors.ts";
import { migratePostgres } from "../lib/history/postgres.ts";

const config = configOrExit();
if (!config.databaseUrl) {
  process.stderr.write("config: DATABASE_URL: expected postgres://user:password@host:port/db to migrate\n");
  process.exit(2);
}
try {
  const applied = await migratePostgres(config.databaseUrl);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "up to date: no migration to apply");
} catch (error) {
  process.stderr.write(`error: ${describeError(error)}\n`);
  process.exit(1);
}
