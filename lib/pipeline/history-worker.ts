import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ChartSource, TickPublisher } from "../ports.ts";
import { StoppedError } from "../retry.ts";
import { tickKey } from "../tick.ts";
import { type BackfillJob, runBackfill } from "./backfill.ts";
import type { ProducerMetrics } from "./producer-metrics.ts";

/** Why a job is queued: a gap to heal, or the first start's backfill. */
export type HistoryJobKind = "gap" | "first-start";

/** Background backfill beside the poll: jobs run one at a time, their requests behind the poll's. */
export interface HistoryWorker {
  enqueue(jobs: readonly BackfillJob[], kind: HistoryJobKind): void;
  /** Resolves once every queued job ran (tests; the stop does not wait for the queue). */
  idle(): Promise<void>;
  /** Stops after the window in progress (the signal aborts it) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs gap-healing and first-start jobs in the background, one at a time, through {@link runBackfill}. A gap
 * whose every window was published is logged ("gap healed", with its pair, span and ticks) and counted in
 * `metrics.gapsHealed` (a gap CoinGecko has no point in is logged, not counted); one with a failed window is logged as not healed (its pair's next gap, or a manual
 * `--backfill`, fills it). The worker never throws: its failures are log lines.
 * @example const worker = createHistoryWorker({ chart, publisher, log, signal, metrics }); worker.enqueue(jobs, "gap");
 */
export function createHistoryWorker(deps: {
  chart: ChartSource;
  publisher: TickPublisher;
  log: Logger;
  signal: AbortSignal;
  metrics: ProducerMetrics;
}): HistoryWorker {
  const { log, metrics } = deps;
  const controller = new AbortController();
  const signal = AbortSignal.any([deps.signal, controller.signal]);
  let chain: Promise<void> = Promise.resolve();

  const runOne = async (job: BackfillJob, kind: HistoryJobKind) => {
    if (signal.aborted) return;
    const span = {
      pair: tickKey(job),
      from: new Date(job.from).toISOString(),
      to: new Date(job.to).toISOString(),
    };
    try {
      const report = await runBackfill({ ...deps, jobs: [job], signal, log: log.child({ kind }) });
      if (report.failedWindows > 0) {
        log.warn(kind === "gap" ? "gap not healed: a window failed" : "first-start backfill incomplete", {
          ...span,
          failedWindows: report.failedWindows,
        });
        return;
      }
      const gapS = Math.round((job.to - job.from) / 1000);
      // A gap shorter than CoinGecko's spacing there (5 minutes in the last day) has no point to fill it with.
      if (kind === "gap" && report.ticks === 0)
        log.info("gap has no price history point to fill it", { ...span, gapS });
      else if (kind === "gap") {
        metrics.gapsHealed++;
        log.info("gap healed", { ...span, gapS, ticks: report.ticks });
      } else log.info("first-start backfill done", { ...span, ticks: report.ticks });
    } catch (error) {
      if (error instanceof StoppedError || signal.aborted) return;
      log.warn(kind === "gap" ? "gap not healed" : "first-start backfill failed", {
        ...span,
        error: describeError(error),
      });
    }
  };

  return {
    enqueue(jobs, kind) {
      for (const job of jobs) chain = chain.then(() => runOne(job, kind));
    },
    idle: () => chain,
    async stop() {
      controller.abort(new StoppedError("stop"));
      await chain;
    },
  };
}
