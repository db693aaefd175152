// `bun run migrate [--realtime]`: applies supabase/migrations to DATABASE_URL (plain Postgres or Supabase's
// direct connection), recorded where the Supabase CLI records them; --realtime also publishes price_history.
import { migrateArgs, runMigrate } from "../lib/run/migrate.ts";
import { CONFIG_EXIT_CODE, loadConfigOrReport } from "../lib/run/process.ts";

const options = migrateArgs(process.argv.slice(2));
const settings = options && loadConfigOrReport("migrate");
process.exit(options && settings ? await runMigrate(settings.databaseUrl, options) : CONFIG_EXIT_CODE);
