// `bun run migrate`: applies supabase/migrations to DATABASE_URL (plain Postgres or Supabase's direct connection).
import { runMigrate } from "../lib/run/migrate.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport } from "../lib/run/process.ts";

const settings = loadConfigOrReport("migrate");
process.exit(settings ? await runMigrate(settings.databaseUrl) : CONFIG_EXIT_CODE);
