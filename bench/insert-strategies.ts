/**
 * The idempotent batch insert of the Postgres history, four ways through Bun.sql, 3 connections writing
 * batches side by side as the consumer does (PARTITIONS_IN_FLIGHT): ours, `createPostgresHistory().upsert`
 * (one INSERT ... SELECT FROM json_to_recordset of the batch, ON CONFLICT DO NOTHING only once a batch met a
 * stored tick), against INSERT ... SELECT FROM unnest of 9 column arrays ON CONFLICT DO NOTHING (what it did
 * before), a multi-row VALUES (before that) and a COPY into a temporary staging table followed by
 * INSERT ... SELECT, in one transaction. Each case writes the same ticks into a fresh database, then the same
 * ticks again (all conflicts), and reports its client CPU.
 */
import { SQL } from "bun";
import { PARTITIONS_IN_FLIGHT } from "../lib/adapters/kafka/subscriber.ts";
import { createPostgresHistory, tickToRow } from "../lib/adapters/postgres/history.ts";
import type { Tick } from "../lib/tick.ts";
import type { Benchmark } from "./context.ts";
import { chunk, compare, expectEqual, interleaved, type Metrics, perSecond, rate } from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";
import { benchTicks } from "./ticks.ts";

const TICKS = 100_000;
/** About one record batch of a partition as the drain benchmark's consumer receives it. */
const BATCH = 666;
const COLUMNS =
  "asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at";

interface InsertMetrics extends Metrics {
  ticksPerSecond: number;
  replayTicksPerSecond: number;
  /** User plus system CPU of this process per tick written, in microseconds. */
  clientCpuMicros: number;
}

type Insert = (ticks: Tick[]) => Promise<number>;

/** The COPY text format of one tick: tab-separated columns, `\N` for null. */
function copyLine(tick: Tick): string {
  const text = (value: number | null) => (value === null ? "\\N" : String(value));
  return `${tick.asset}\t${tick.currency}\t${text(tick.price)}\t${text(tick.marketCap)}\t${text(tick.volume24h)}\t${text(tick.change24hPct)}\t${tick.source}\t${tick.sourceUpdatedAt}\t${tick.fetchedAt}\n`;
}

function unnestInsert(sql: SQL): Insert {
  const text = (value: number | null) => (value === null ? null : String(value));
  return async (ticks) => {
    const column = <T>(pick: (tick: Tick) => T) => sql.array(ticks.map(pick), "TEXT");
    const result = await sql`
      insert into price_history
        (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
      select * from unnest(
        ${column((t) => t.asset)}, ${column((t) => t.currency)}, ${column((t) => text(t.price))}::numeric[],
        ${column((t) => text(t.marketCap))}::numeric[], ${column((t) => text(t.volume24h))}::numeric[],
        ${column((t) => text(t.change24hPct))}::numeric[], ${column((t) => t.source)},
        ${column((t) => t.sourceUpdatedAt)}::timestamptz[], ${column((t) => t.fetchedAt)}::timestamptz[])
      on conflict (asset, currency, source_updated_at) do nothing`;
    return result.count;
  };
}

function valuesInsert(sql: SQL): Insert {
  return async (ticks) => {
    const result = await sql`insert into price_history ${sql(ticks.map(tickToRow))}
      on conflict (asset, currency, source_updated_at) do nothing`;
    return result.count;
  };
}

function copyInsert(sql: SQL): Insert {
  return (ticks) =>
    sql.begin(async (tx) => {
      // One temporary table per connection, emptied at each commit.
      await tx`create temp table if not exists staging (like price_history including defaults) on commit delete rows`;
      const writer = tx.unsafe(`copy staging (${COLUMNS}) from stdin`).writable().getWriter();
      await writer.write(ticks.map(copyLine).join(""));
      await writer.close();
      const result = await tx.unsafe(
        `insert into price_history (${COLUMNS}) select ${COLUMNS} from staging
         on conflict (asset, currency, source_updated_at) do nothing`,
      );
      return result.count;
    });
}

/** Writes `batches` with `lanes` writers side by side; returns the rows the inserts counted. */
async function writeAll(insert: Insert, batches: Tick[][], lanes: number): Promise<number> {
  let next = 0;
  let inserted = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as Tick[];
        const count = await insert(batch);
        inserted += count;
      }
    }),
  );
  return inserted;
}

/** JSON batch (ours) vs unnest, multi-row VALUES and COPY through a staging table, 3 connections each. */
export const insertStrategies: Benchmark = {
  name: `Postgres insert strategies (${TICKS.toLocaleString("en-US")} ticks, batches of ${BATCH}, ${PARTITIONS_IN_FLIGHT} connections)`,
  needs: ["postgres"],
  async run(ctx) {
    const batches = chunk(benchTicks(TICKS), BATCH);
    const measure = async (
      who: string,
      make: (url: string) => { insert: Insert; close: () => Promise<void> },
    ) => {
      const db = await createBenchDatabase(ctx.stack.databaseUrl, `bench_insert_${who}`);
      const drop = ctx.defer(() => db.drop());
      const { insert, close } = make(db.url);
      try {
        await insert(batches[0] as Tick[]); // connects and prepares before the clock starts
        const rest = batches.slice(1);
        const expected = TICKS - (batches[0] as Tick[]).length;
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        expectEqual(`${who}: inserted`, await writeAll(insert, rest, PARTITIONS_IN_FLIGHT), expected);
        const ms = performance.now() - t0;
        const used = process.cpuUsage(cpu);
        const t1 = performance.now();
        expectEqual(`${who}: inserted on replay`, await writeAll(insert, rest, PARTITIONS_IN_FLIGHT), 0);
        const replayMs = performance.now() - t1;
        return {
          ticksPerSecond: perSecond(expected, ms),
          replayTicksPerSecond: perSecond(expected, replayMs),
          clientCpuMicros: (used.user + used.system) / expected,
        };
      } finally {
        await close();
        await drop();
      }
    };
    const ours = () =>
      measure("json", (url) => {
        const history = createPostgresHistory(url, { max: PARTITIONS_IN_FLIGHT });
        return {
          insert: async (ticks) => (await history.upsert(ticks)).inserted,
          close: () => history.close(),
        };
      });
    const withSql = (who: string, build: (sql: SQL) => Insert) => () =>
      measure(who, (url) => {
        const sql = new SQL({ url, max: PARTITIONS_IN_FLIGHT });
        return { insert: build(sql), close: () => sql.close() };
      });
    ctx.log(
      "ours: createPostgresHistory().upsert, INSERT ... SELECT FROM json_to_recordset(batch), ON CONFLICT only after a conflict",
    );
    ctx.log(
      "baselines: unnest(9 column arrays) ON CONFLICT; multi-row VALUES (9 parameters a row); COPY into a temp table + INSERT ... SELECT, one tx",
    );
    const describe = (m: InsertMetrics) =>
      `${rate(m.ticksPerSecond, "ticks/s")} (${m.clientCpuMicros.toFixed(2)} µs CPU)`;
    const unnest = await interleaved(
      { ours, baseline: withSql("unnest", unnestInsert) },
      (line) => ctx.log(`vs unnest ${line}`),
      describe,
    );
    const values = await interleaved(
      { ours, baseline: withSql("values", valuesInsert) },
      (line) => ctx.log(`vs VALUES ${line}`),
      describe,
    );
    const copy = await interleaved(
      { ours, baseline: withSql("copy", copyInsert) },
      (line) => ctx.log(`vs COPY ${line}`),
      describe,
    );
    const figures = (rounds: typeof values, baseline: string) => [
      compare(rounds, "ticksPerSecond", {
        benchmark: `Postgres insert, JSON batch vs ${baseline}`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(rounds, "replayTicksPerSecond", {
        benchmark: `Postgres insert replay (all conflicts), JSON batch vs ${baseline}`,
        unit: "ticks/s",
        better: "higher",
      }),
      compare(rounds, "clientCpuMicros", {
        benchmark: `Postgres insert client CPU, JSON batch vs ${baseline}`,
        unit: "µs/tick",
        better: "lower",
      }),
    ];
    return [
      ...figures(unnest, "unnest"),
      ...figures(values, "multi-row VALUES"),
      ...figures(copy, "COPY + staging table"),
    ];
  },
};
