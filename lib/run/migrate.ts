import { enableRealtime, migratePostgres } from "../adapters/postgres/migrate.ts";
import { describeError } from "../errors.ts";

/** What `bun run migrate` may do besides the migrations. */
export interface MigrateOptions {
  /** No DATABASE_URL is not an error (the release command of a deployment on the REST API alone); default false. */
  optional?: boolean;
  /** Also add price_history to the supabase_realtime publication (supabase/realtime.sql); default false. */
  realtime?: boolean;
}

/**
 * Applies the migrations to `databaseUrl`, prints what it did, and returns the exit code: 0 done, 1 failed,
 * 2 no DATABASE_URL. Used by `bun run migrate [--realtime]` and by the compiled consumer's `--migrate` (Fly's
 * release command), which passes `optional` so that a deployment without DATABASE_URL is not refused.
 * @example const code = await runMigrate(config.databaseUrl); // the entry exits with it
 */
export async function runMigrate(databaseUrl: string | null, options: MigrateOptions = {}): Promise<number> {
  if (!databaseUrl) {
    // As a release command, a deployment on Supabase's REST API alone has nothing to migrate from here.
    if (options.optional) {
      console.log("no DATABASE_URL: nothing to migrate (supabase db push applies supabase/migrations)");
      return 0;
    }
    process.stderr.write("config: DATABASE_URL: expected postgres://user:password@host:port/db to migrate\n");
    return 2;
  }
  try {
    const applied = await migratePostgres(databaseUrl);
    console.log(
      applied.length
        ? `applied: ${applied.join(", ")} (recorded in supabase_migrations.schema_migrations)`
        : "up to date: no migration to apply",
    );
    if (options.realtime) {
      const { published, walLevel } = await enableRealtime(databaseUrl);
      if (!published) throw new Error("price_history is not in publication supabase_realtime");
      console.log("realtime: price_history is in publication supabase_realtime");
      // A Supabase project runs with wal_level = logical; plain Postgres usually does not.
      if (walLevel !== "logical")
        console.log(`realtime: note: wal_level is ${walLevel}; Supabase Realtime needs wal_level = logical`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return 1;
  }
}

/**
 * Reads `bun run migrate`'s arguments: `--realtime` or nothing; null (with the usage printed) for anything else.
 * @example migrateArgs(["--realtime"]) // { realtime: true }
 */
export function migrateArgs(args: readonly string[]): MigrateOptions | null {
  const unknown = args.filter((arg) => arg !== "--realtime");
  if (unknown.length > 0) {
    process.stderr.write(`usage: bun run migrate [--realtime] (unknown: ${unknown.join(" ")})\n`);
    return null;
  }
  return { realtime: args.includes("--realtime") };
}
