import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ChartSource, ChartWindow, TickPublisher } from "../ports.ts";
import { stopReason } from "../retry.ts";
import { tickKey } from "../tick.ts";
import { type BackfillProgress, silentProgress } from "./backfill-progress.ts";
import type { ProducerMetrics } from "./producer-metrics.ts";

/** Most ticks in one publish: 1000, a few hundred KiB, well under a broker's request limits. */
const PUBLISH_BATCH = 1_000;
const HOUR_MS = 3_600_000;

/** The history one pair needs: [from, to] in epoch ms. */
export interface BackfillJob {
  asset: string;
  currency: string;
  from: number;
  to: number;
}

/** What a backfill did. */
export interface BackfillReport {
  pairs: number;
  /** Windows asked for (one request each, retries aside). */
  windows: number;
  /** Windows whose request failed after its retries: a rerun fills them. */
  failedWindows: number;
  /** Ticks the bus acknowledged. */
  ticks: number;
  /** Points that could not be a valid tick (no price, not positive, ...). */
  dropped: number;
  elapsedMs: number;
}

/**
 * The jobs of `--backfill <duration>`: every asset in every currency from `durationMs` before `now`, rounded
 * down to the hour, so that reruns within the hour ask the very same windows, to `now`.
 * @example backfillJobs(["beldex"], ["usd"], 30 * 86_400_000, Date.now())
 */
export function backfillJobs(
  assets: readonly string[],
  currencies: readonly string[],
  durationMs: number,
  now: number,
): BackfillJob[] {
  const from = Math.floor((now - durationMs) / HOUR_MS) * HOUR_MS;
  return assets.flatMap((asset) => currencies.map((currency) => ({ asset, currency, from, to: now })));
}

/** Everything {@link runBackfill} needs; the progress, metrics and clock are optional. */
export interface BackfillDeps {
  chart: ChartSource;
  publisher: TickPublisher;
  jobs: readonly BackfillJob[];
  log: Logger;
  signal?: AbortSignal;
  /** Default: silent. */
  progress?: BackfillProgress;
  /** Counts windows and ticks when given. */
  metrics?: ProducerMetrics;
  /** Epoch ms, for the windows ending now and the elapsed time. Default Date.now. */
  now?: () => number;
}

/**
 * Fetches each job's history window by window (the chart source picks windows of its finest granularity) and
 * publishes the points as ordinary ticks, oldest first per pair. Idempotent and resumable without a marker:
 * the windows of a rerun are the same, a tick's identity is its pair and source time, and the sinks keep each
 * identity once, so a rerun, or a restart after a kill, republishes and adds only what is missing. A window
 * whose request fails is logged, counted and left for a rerun; a publish that fails throws (nothing after it is
 * lost: the rerun sends it again). Rejects with the stop reason when the signal aborts.
 * @example await runBackfill({ chart, publisher, jobs: backfillJobs(assets, currencies, 30 * DAY, Date.now()), log });
 */
export async function runBackfill(deps: BackfillDeps): Promise<BackfillReport> {
  const { chart, publisher, log, signal } = deps;
  const now = deps.now ?? Date.now;
  const progress = deps.progress ?? silentProgress;
  const started = now();
  const plan: { job: BackfillJob; window: ChartWindow }[] = deps.jobs.flatMap((job) =>
    chart.windows(job.from, job.to, started).map((window) => ({ job, window })),
  );
  const granularity: Record<string, number> = {};
  for (const { window } of plan) granularity[window.granularity] = (granularity[window.granularity] ?? 0) + 1;
  const first = deps.jobs[0];
  log.info("backfill planned", {
    pairs: deps.jobs.length,
    windows: plan.length,
    granularity,
    ...(first
      ? {
          from: new Date(first.from).toISOString(),
          to: new Date(first.to).toISOString(),
          plan: plan
            .filter((p) => p.job === first)
            .map(({ window }) => ({
              from: new Date(window.from).toISOString(),
              to: new Date(window.to).toISOString(),
              granularity: window.granularity,
            })),
        }
      : {}),
  });
  const report: BackfillReport = {
    pairs: deps.jobs.length,
    windows: plan.length,
    failedWindows: 0,
    ticks: 0,
    dropped: 0,
    elapsedMs: 0,
  };
  progress.start(plan.length);
  try {
    for (const { job, window } of plan) {
      if (signal?.aborted) throw stopReason(signal);
      let fetched: Awaited<ReturnType<ChartSource["fetch"]>>;
      try {
        fetched = await chart.fetch(job.asset, job.currency, window, signal);
      } catch (error) {
        if (signal?.aborted) throw stopReason(signal);
        report.failedWindows++;
        if (deps.metrics) deps.metrics.backfill.failedWindows++;
        log.warn("backfill window failed; a rerun fills it", {
          pair: tickKey(job),
          from: new Date(window.from).toISOString(),
          to: new Date(window.to).toISOString(),
          error: describeError(error),
        });
        progress.advance(0);
        continue;
      }
      for (let i = 0; i < fetched.ticks.length; i += PUBLISH_BATCH)
        await publisher.publish(fetched.ticks.slice(i, i + PUBLISH_BATCH));
      report.ticks += fetched.ticks.length;
      report.dropped += fetched.dropped;
      if (deps.metrics) {
        deps.metrics.backfill.windows++;
        deps.metrics.backfill.ticks += fetched.ticks.length;
      }
      progress.advance(fetched.ticks.length);
    }
  } finally {
    progress.finish();
  }
  report.elapsedMs = now() - started;
  log.info("backfill done", { ...report });
  return report;
}
