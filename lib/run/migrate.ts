import { migratePostgres } from "../adapters/postgres/history.ts";
import { describeError } from "../errors.ts";

/**
 * Applies the migrations to `databaseUrl`, prints what it did, and returns the exit code: 0 done, 1 failed,
 * 2 no DATABASE_URL. Used by `bun run migrate` and by the compiled consumer's `--migrate` (Fly's release
 * command), which passes `optional` so that a deployment without DATABASE_URL is not refused.
 * @example const code = await runMigrate(config.databaseUrl); // the entry exits with it
 */
export async function runMigrate(
  databaseUrl: string | null,
  options: { optional?: boolean } = {},
): Promise<number> {
  if (!databaseUrl) {
    // As a release command, a deployment on Supabase's REST API alone has nothing to migrate from here.
    if (options.optional) {
      console.log("no DATABASE_URL: nothing to migrate (apply supabase/migrations in Supabase's SQL editor)");
      return 0;
    }
    process.stderr.write("config: DATABASE_URL: expected postgres://user:password@host:port/db to migrate\n");
    return 2;
  }
  try {
    const applied = await migratePostgres(databaseUrl);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "up to date: no migration to apply");
    return 0;
  } catch (error) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return 1;
  }
}
