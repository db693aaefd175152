/** Throwaway, migrated Postgres databases for the benchmarks. */
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { createDatabaseBeside, type TestDatabase } from "../tests/support/stack.ts";

/**
 * Creates an empty database beside the one in `databaseUrl` and applies the project's migrations, so each
 * case starts from the same fresh price_history table.
 */
export async function createBenchDatabase(databaseUrl: string, prefix: string): Promise<TestDatabase> {
  const database = await createDatabaseBeside(databaseUrl, prefix);
  try {
    await migratePostgres(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}
