// `bun run migrate`: applies supabase/migrations to DATABASE_URL (plain Postgres or Supabase's direct connection).
import { configOrExit } from "../lib/config.ts";
import { runMigrate } from "../lib/run/migrate.ts";

await runMigrate(configOrExit());
