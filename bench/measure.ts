/**
 * Timing, percentiles, memory and machine helpers shared by every benchmark, plus the figure and table
 * formats that `bench/run.ts` prints and writes to `bench/results/latest.json`.
 */
import { readFileSync } from "node:fs";
import { cpus, release, totalmem, type } from "node:os";

/** One compared figure: our code and its baseline, measured in the same invocation on the same machine. */
export interface Figure {
  /** What was measured, e.g. "Postgres write, ticks/s". */
  benchmark: string;
  /** Unit of both values, e.g. "ticks/s", "ms", "MB". */
  unit: string;
  /** Which direction is an improvement, so that a reader can tell a good ratio from a bad one. */
  better: "higher" | "lower";
  ours: number;
  baseline: number;
  /** A caveat worth printing beside the figure. */
  note?: string;
  /** The value of every round; `ours` and `baseline` are their medians. */
  rounds?: { ours: number[]; baseline: number[] };
}

/** The machine a run measured, printed above the table and stored with the figures. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  bun: string;
}

/** Median, 95th percentile and extremes of a sample, in the sample's unit. */
export interface Summary {
  count: number;
  median: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * The value below which `p` percent of the sample falls (nearest rank on the sorted sample).
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Summarises a sample of durations or sizes; NaN everywhere for an empty sample. */
export function summarize(samples: readonly number[]): Summary {
  const count = samples.length;
  const total = samples.reduce((sum, value) => sum + value, 0);
  return {
    count,
    median: percentile(samples, 50),
    p95: percentile(samples, 95),
    min: count ? Math.min(...samples) : Number.NaN,
    max: count ? Math.max(...samples) : Number.NaN,
    mean: count ? total / count : Number.NaN,
  };
}

/** Durations of each step and the wall time of the whole loop, in milliseconds. */
export interface Timed {
  stepsMs: number[];
  totalMs: number;
}

/**
 * Runs `step(i)` for i = 0..count-1, one after the other, timing each. Sequential on purpose: the pipeline
 * writes one batch at a time, so concurrency here would measure something production never does.
 */
export async function timeSteps(
  count: number,
  step: (index: number) => Promise<unknown> | unknown,
): Promise<Timed> {
  const stepsMs: number[] = [];
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const t0 = performance.now();
    await step(index);
    stepsMs.push(performance.now() - t0);
  }
  return { stepsMs, totalMs: performance.now() - started };
}

/** Items per second for `items` processed in `ms` milliseconds. */
export function perSecond(items: number, ms: number): number {
  return ms > 0 ? (items * 1000) / ms : Number.NaN;
}

/** Splits `items` into consecutive chunks of `size` (the last may be shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Heap and resident set size in bytes. */
export interface MemorySnapshot {
  heapUsed: number;
  rss: number;
}

/**
 * Memory after a full, synchronous collection, so that growth between two snapshots is what the code in
 * between kept alive rather than garbage the collector had not reached yet.
 */
export function settledMemory(): MemorySnapshot {
  Bun.gc(true);
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

/**
 * Tracks the highest RSS seen at sample points (call `sample()` after each step). Growth is measured to this
 * peak rather than to the RSS after the run, because the allocator hands freed pages back at its own pace,
 * which can make an end-to-end RSS difference negative; and sampling only inside the measured loop keeps the
 * peaks of building the input and of the warm-up out of the figure, which getrusage's maxRSS would not.
 */
export function rssPeak(): { sample(): void; readonly bytes: number } {
  let bytes = process.memoryUsage.rss();
  return {
    sample() {
      bytes = Math.max(bytes, process.memoryUsage.rss());
    },
    get bytes() {
      return bytes;
    },
  };
}

/** Bytes as mebibytes. */
export function mebibytes(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** The CPU model, core count, memory, OS and Bun version of this machine. */
export function describeMachine(): Machine {
  // os.cpus() can come back empty in some containers; /proc/cpuinfo is the fallback there.
  let cpu = cpus()[0]?.model?.trim() ?? "";
  if (!cpu) {
    try {
      cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "";
    } catch {
      // Not Linux: leave it unknown rather than fail the benchmark.
    }
  }
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) os = `${pretty} (${type()} ${release()})`;
  } catch {
    // No os-release (macOS): the kernel name and release are enough.
  }
  return {
    cpu: cpu || "unknown CPU",
    cores: navigator.hardwareConcurrency || cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    os,
    bun: Bun.version,
  };
}

/** One line naming the machine, e.g. "Intel Xeon, 2 cores, 23.5 GiB, Debian 12 (Linux 6.1), Bun 1.4.5". */
export function machineLine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.os}, Bun ${machine.bun}`;
}

/** ours / baseline: above 1 means ours is larger, which is better only when `better` is "higher". */
export function ratio(figure: Figure): number {
  return figure.baseline === 0 ? Number.NaN : figure.ours / figure.baseline;
}

/** A number with precision that suits its size: 12 345, 123.4, 1.23, 0.012. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString("en-US");
  if (magnitude >= 100) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** Rounds a figure for storage: two decimals from 1 up, three significant digits below. */
function roundForJson(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  return Math.abs(value) >= 1 ? Math.round(value * 100) / 100 : Number(value.toPrecision(3));
}

/**
 * Results as JSON in the layout `biome format` gives it (arrays of numbers on one line), so that
 * `biome check .` stays clean while bench/results/latest.json exists. NaN becomes null.
 */
export function resultsJson(results: unknown): string {
  const text = JSON.stringify(
    results,
    (_key, value) => (typeof value === "number" ? roundForJson(value) : value),
    2,
  );
  return `${text.replace(/\[\s+((?:-?[\d.e+-]+|null)(?:,\s+(?:-?[\d.e+-]+|null))*)\s+\]/g, (_match, items: string) => `[${items.split(/,\s+/).join(", ")}]`)}\n`;
}

/** The figures as a Markdown table: benchmark | ours | baseline | ratio. */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => {
    const arrow = figure.better === "higher" ? "↑" : "↓";
    const name = `${figure.benchmark} (${figure.unit} ${arrow})${figure.note ? ` — ${figure.note}` : ""}`;
    const r = ratio(figure);
    return [
      name,
      formatNumber(figure.ours),
      formatNumber(figure.baseline),
      Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a",
    ];
  });
  const header = ["benchmark", "ours", "baseline", "ratio"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (column === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** How many times each case runs; the reported figure is the median, so one disturbed round does not count. */
export const ROUNDS = 3;

/** Named numbers one run of a case produced, e.g. `{ ticksPerSecond, batchP95Ms }`. */
export type Metrics = Record<string, number>;

/** Every round's metrics of both cases. */
export interface Rounds<M extends Metrics> {
  ours: M[];
  baseline: M[];
}

/**
 * Runs ours and the baseline {@link ROUNDS} times each, alternating which goes first, so that load from
 * other processes on a shared machine, or a cache warmed by the previous case, falls on both alike.
 * `describe` turns a round's metrics into the progress line printed after it.
 */
export async function interleaved<M extends Metrics>(
  cases: { ours: () => Promise<M>; baseline: () => Promise<M> },
  log: (line: string) => void,
  describe: (metrics: M) => string,
  rounds = ROUNDS,
): Promise<Rounds<M>> {
  const result: Rounds<M> = { ours: [], baseline: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (["ours", "baseline"] as const) : (["baseline", "ours"] as const);
    const line: Partial<Record<"ours" | "baseline", string>> = {};
    for (const which of order) {
      const metrics = await cases[which]();
      result[which].push(metrics);
      line[which] = describe(metrics);
    }
    log(`round ${round + 1}/${rounds}: ours ${line.ours}, baseline ${line.baseline}`);
  }
  return result;
}

/** One figure from the rounds: the median of `key` over ours' rounds beside the median over the baseline's. */
export function compare<M extends Metrics>(
  rounds: Rounds<M>,
  key: keyof M & string,
  figure: Omit<Figure, "ours" | "baseline" | "rounds">,
): Figure {
  const ours = rounds.ours.map((metrics) => metrics[key] as number);
  const baseline = rounds.baseline.map((metrics) => metrics[key] as number);
  return {
    ...figure,
    ours: percentile(ours, 50),
    baseline: percentile(baseline, 50),
    rounds: { ours, baseline },
  };
}

/** Throughput and batch latency of one write loop, and the throughput of replaying the same ticks. */
export interface WriteMetrics extends Metrics {
  ticksPerSecond: number;
  batchMedianMs: number;
  batchP95Ms: number;
  replayTicksPerSecond: number;
}

/** {@link WriteMetrics} from a timed write loop and a timed replay of `ticks` ticks. */
export function writeMetrics(write: Timed, replay: Timed, ticks: number): WriteMetrics {
  const batches = summarize(write.stepsMs);
  return {
    ticksPerSecond: perSecond(ticks, write.totalMs),
    batchMedianMs: batches.median,
    batchP95Ms: batches.p95,
    replayTicksPerSecond: perSecond(ticks, replay.totalMs),
  };
}

/** Fails the run when a case did not do what it claims, so a figure never hides a broken write. */
export function expectEqual(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

/**
 * Warm-up, the timed write of every batch, then the timed replay of the same batches, through `write`
 * (which returns how many items were new); checks that the write stored all of them and the replay none.
 */
export async function measureWrites<T>(
  who: string,
  write: (batch: T[]) => Promise<number> | number,
  batches: readonly T[][],
  warmup: readonly T[][],
): Promise<WriteMetrics> {
  const total = batches.reduce((sum, batch) => sum + batch.length, 0);
  for (const batch of warmup) await write(batch);
  let inserted = 0;
  const written = await timeSteps(batches.length, async (i) => {
    inserted += await write(batches[i] as T[]);
  });
  expectEqual(`${who}: inserted`, inserted, total);
  let replayed = 0;
  const replay = await timeSteps(batches.length, async (i) => {
    replayed += await write(batches[i] as T[]);
  });
  expectEqual(`${who}: inserted on replay`, replayed, 0);
  return writeMetrics(written, replay, total);
}

/** The four figures both history benchmarks report, shared so that Postgres and SQLite rows read alike. */
export function writeFigures(store: string, rounds: Rounds<WriteMetrics>, batch: number): Figure[] {
  return [
    compare(rounds, "ticksPerSecond", {
      benchmark: `${store} history write`,
      unit: "ticks/s",
      better: "higher",
    }),
    compare(rounds, "batchMedianMs", {
      benchmark: `${store} history, ${batch}-tick batch median`,
      unit: "ms",
      better: "lower",
    }),
    compare(rounds, "batchP95Ms", {
      benchmark: `${store} history, ${batch}-tick batch p95`,
      unit: "ms",
      better: "lower",
    }),
    compare(rounds, "replayTicksPerSecond", {
      benchmark: `${store} history replay (all stored)`,
      unit: "ticks/s",
      better: "higher",
    }),
  ];
}

/** A progress fragment like "48,462 ticks/s". */
export function rate(value: number, unit: string): string {
  return `${formatNumber(value)} ${unit}`;
}
