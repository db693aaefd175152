/**
 * History write on Postgres: createPostgresHistory().upsert (one multi-row INSERT ... ON CONFLICT DO NOTHING
 * per 500-tick batch) against the naive loop of one INSERT ... ON CONFLICT per tick, each in a fresh
 * database, then a replay of the same ticks (all already stored) through both.
 */
import { createPostgresHistory, tickToRow } from "../lib/adapters/postgres/history.ts";
import type { Tick } from "../lib/tick.ts";
import type { Benchmark } from "./context.ts";
import {
  chunk,
  expectEqual,
  interleaved,
  measureWrites,
  rate,
  type WriteMetrics,
  writeFigures,
} from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";
import { benchTicks } from "./ticks.ts";

const TICKS = 20_000;
const BATCH = 500;
// Enough round trips to fill the connection's statement cache and the table's first index pages.
const WARMUP_TICKS = 1_000;
// Far from the measured minutes, so warm-up rows never collide with (and never pre-store) measured ticks.
const WARMUP_FIRST_MINUTE = 1_000_000;

async function countRows(url: string): Promise<number> {
  const sql = new Bun.SQL({ url, max: 1 });
  try {
    const [row] = (await sql`select count(*)::int as n from price_history`) as { n: number }[];
    return row?.n ?? 0;
  } finally {
    await sql.close();
  }
}

/** Postgres history write and replay, ours vs one statement per tick. */
export const historyPostgres: Benchmark = {
  name: `history write, Postgres (${TICKS.toLocaleString("en-US")} ticks, batches of ${BATCH}, fresh database per run)`,
  needs: ["postgres"],
  async run(ctx) {
    const batches = chunk(benchTicks(TICKS), BATCH);
    const warmup = chunk(benchTicks(WARMUP_TICKS, WARMUP_FIRST_MINUTE), BATCH);

    const ours = async (): Promise<WriteMetrics> => {
      const db = await createBenchDatabase(ctx.stack.databaseUrl, "bench_pg_ours");
      const drop = ctx.defer(() => db.drop());
      const history = createPostgresHistory(db.url);
      const close = ctx.defer(() => history.close());
      try {
        const metrics = await measureWrites(
          "ours",
          async (batch) => (await history.upsert(batch)).inserted,
          batches,
          warmup,
        );
        expectEqual("ours: rows", await countRows(db.url), TICKS + WARMUP_TICKS);
        return metrics;
      } finally {
        await close();
        await drop();
      }
    };

    const baseline = async (): Promise<WriteMetrics> => {
      const db = await createBenchDatabase(ctx.stack.databaseUrl, "bench_pg_naive");
      const drop = ctx.defer(() => db.drop());
      // One connection, like ours in practice: upsert is awaited batch by batch, so its pool serves one at a time.
      const sql = new Bun.SQL({ url: db.url, max: 1, idleTimeout: 30, connectionTimeout: 10 });
      const close = ctx.defer(() => sql.close({ timeout: 5 }));
      // Same row conversion as ours, so the difference is the statement count, not the encoding.
      const insertEach = async (batch: Tick[]): Promise<number> => {
        let written = 0;
        for (const tick of batch) {
          const result = await sql`
            insert into price_history ${sql(tickToRow(tick))}
            on conflict (asset, currency, source_updated_at) do nothing`;
          written += result.count;
        }
        return written;
      };
      try {
        const metrics = await measureWrites("baseline", insertEach, batches, warmup);
        expectEqual("baseline: rows", await countRows(db.url), TICKS + WARMUP_TICKS);
        return metrics;
      } finally {
        await close();
        await drop();
      }
    };

    ctx.log("ours: createPostgresHistory().upsert, one multi-row statement per batch");
    ctx.log("baseline: one INSERT ... ON CONFLICT DO NOTHING per tick, awaited in turn");
    const rounds = await interleaved({ ours, baseline }, ctx.log, (m) => rate(m.ticksPerSecond, "ticks/s"));
    return writeFigures("Postgres", rounds, BATCH);
  },
};
