import type { Configs } from "../config.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createGapFinder } from "../pipeline/gap-finder.ts";
import { createHistoryWorker } from "../pipeline/history-worker.ts";
import type { ProducerMetrics } from "../pipeline/producer-metrics.ts";
import type { ChartSource, PublishedTail, TickPublisher } from "../ports.ts";
import { unlessStopped } from "../retry.ts";
import type { Tick } from "../tick.ts";

/** The running producer's history side: gap healing and the first-start backfill. */
export interface ProducerHistory {
  /** Give it the ticks of every acknowledged publish (the loop's onPublished). */
  onPublished(ticks: readonly Tick[]): void;
  /** Stops the job in progress and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts gap healing: reads the topic's tail for the newest tick per pair (a failure skips healing at start, in
 * one warn line, and the loop goes on), queues the BACKFILL_ON_START backfill for pairs the topic has never
 * seen, and from then on queues a backfill of every gap longer than two intervals (and two of the history's
 * finest points) the published ticks show.
 * Jobs run in the background behind the poll's requests.
 * @example const history = await startProducerHistory({ config, chart, publisher, tail, log, signal, metrics });
 */
export async function startProducerHistory(deps: {
  config: Configs["producer"];
  chart: ChartSource;
  publisher: TickPublisher;
  tail: PublishedTail;
  log: Logger;
  signal: AbortSignal;
  metrics: ProducerMetrics;
}): Promise<ProducerHistory> {
  const { config, log, signal } = deps;
  const pairs = config.assets.flatMap((asset) => config.currencies.map((currency) => ({ asset, currency })));
  const finder = createGapFinder({
    pairs,
    // Two intervals, as the page marks gaps; never less than two of the history's finest points, since a
    // shorter gap (CoinGecko's cache moving in odd steps under a short interval) has no point to fill it.
    thresholdMs: Math.max(2 * config.fetchIntervalMs, 2 * deps.chart.finestMs),
    firstStartMs: config.backfillOnStartMs,
  });
  const worker = createHistoryWorker({ ...deps, log: log.child({ component: "history" }) });
  try {
    const newest = await unlessStopped(signal, deps.tail.newest(signal));
    const now = Date.now();
    const ages = Object.fromEntries([...newest].map(([pair, at]) => [pair, Math.round((now - at) / 1000)]));
    log.info("topic tail read: newest tick age per pair (s)", { pairs: newest.size, ages });
    const jobs = finder.seed(newest, now);
    if (jobs.length > 0)
      log.info("first start: backfilling pairs the topic has no tick of", { pairs: jobs.length });
    worker.enqueue(jobs, "first-start");
  } catch (error) {
    if (signal.aborted) throw error;
    log.warn("could not read the topic's tail: gaps before this start are not healed", {
      error: describeError(error),
    });
  }
  return {
    onPublished: (ticks) => worker.enqueue(finder.observe(ticks), "gap"),
    stop: () => worker.stop(),
  };
}
