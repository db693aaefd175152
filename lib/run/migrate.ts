import { migratePostgres } from "../adapters/postgres/history.ts";
import type { Config } from "../config.ts";
import { describeError } from "../errors.ts";
import { exitConfig } from "./process.ts";

/**
 * Applies the migrations to DATABASE_URL, prints what it did, and exits: 0 done, 1 failed, 2 no DATABASE_URL.
 * Used by `bun run migrate` and by the compiled consumer's `--migrate` (Fly's release command), which passes
 * `optional` so that a deployment without DATABASE_URL is not refused.
 */
export async function runMigrate(config: Config, options: { optional?: boolean } = {}): Promise<never> {
  if (!config.databaseUrl) {
    // As a release command, a deployment on Supabase's REST API alone has nothing to migrate from here.
    if (options.optional) {
      console.log("no DATABASE_URL: nothing to migrate (apply supabase/migrations in Supabase's SQL editor)");
      process.exit(0);
    }
    return exitConfig("DATABASE_URL: expected postgres://user:password@host:port/db to migrate");
  }
  try {
    const applied = await migratePostgres(config.databaseUrl);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "up to date: no migration to apply");
    process.exit(0);
  } catch (error) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exit(1);
  }
}
