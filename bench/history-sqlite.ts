/**
 * History write on SQLite: createSqliteHistory().upsert (one transaction per 500-tick batch) against one
 * autocommit INSERT per tick, each run in a new file under a temp dir, then a replay through both.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createSqliteHistory,
  SQLITE_BUSY_TIMEOUT_MS,
  SQLITE_SCHEMA,
  type SqliteRow,
  tickToSqliteRow,
} from "../lib/adapters/sqlite/history.ts";
import type { Tick } from "../lib/tick.ts";
import type { Benchmark } from "./context.ts";
import { chunk, interleaved, measureWrites, rate, type WriteMetrics, writeFigures } from "./measure.ts";
import { benchTicks } from "./ticks.ts";

const TICKS = 20_000;
const BATCH = 500;
const WARMUP_TICKS = 1_000;
const WARMUP_FIRST_MINUTE = 1_000_000;

/** SQLite history write and replay, ours vs one autocommit INSERT per tick. */
export const historySqlite: Benchmark = {
  name: `history write, SQLite (${TICKS.toLocaleString("en-US")} ticks, batches of ${BATCH}, new file per run)`,
  needs: [],
  async run(ctx) {
    const batches = chunk(benchTicks(TICKS), BATCH);
    const warmup = chunk(benchTicks(WARMUP_TICKS, WARMUP_FIRST_MINUTE), BATCH);
    const dir = mkdtempSync(join(tmpdir(), "belly-bench-sqlite-"));
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    let files = 0;
    // A new file per run: the same starting point for every round, and no run reads pages another wrote.
    const nextFile = (label: string) => join(dir, `${label}-${++files}.sqlite`);

    const ours = async (): Promise<WriteMetrics> => {
      const history = createSqliteHistory(nextFile("ours"));
      const close = ctx.defer(() => history.close());
      try {
        return await measureWrites(
          "ours",
          async (batch: Tick[]) => (await history.upsert(batch)).inserted,
          batches,
          warmup,
        );
      } finally {
        await close();
      }
    };

    const baseline = async (): Promise<WriteMetrics> => {
      const db = new Database(nextFile("naive"), { create: true, strict: true });
      const close = ctx.defer(() => db.close());
      // The store's own pragmas: with WAL and synchronous=normal a commit does not fsync, so the baseline
      // pays per-transaction bookkeeping, not a disk flush per tick that would make the gap look larger.
      db.run(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.run("pragma journal_mode = wal");
      db.run("pragma synchronous = normal");
      db.run(SQLITE_SCHEMA);
      // Prepared once, as any sensible loop would, so the figure is the cost of a transaction per tick.
      const insert = db.prepare<unknown, [SqliteRow]>(
        `insert into price_history (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
         values ($asset, $currency, $price, $market_cap, $volume_24h, $change_24h_pct, $source, $source_updated_at, $fetched_at)
         on conflict (asset, currency, source_updated_at) do nothing`,
      );
      const insertEach = (batch: Tick[]): number => {
        let written = 0;
        for (const tick of batch) written += insert.run(tickToSqliteRow(tick)).changes;
        return written;
      };
      try {
        return await measureWrites("baseline", insertEach, batches, warmup);
      } finally {
        insert.finalize();
        await close();
      }
    };

    ctx.log(`files under ${dir}`);
    ctx.log("ours: createSqliteHistory().upsert, one transaction per batch");
    ctx.log("baseline: one autocommit INSERT per tick, same schema and pragmas");
    const rounds = await interleaved({ ours, baseline }, ctx.log, (m) => rate(m.ticksPerSecond, "ticks/s"));
    return writeFigures("SQLite", rounds, BATCH);
  },
};
