import { BellyError, describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createBatchProcessor } from "../pipeline/consume.ts";
import { createLatestRepair, repairUntilDone } from "../pipeline/latest-repair.ts";
import { createConsumerMetrics, failureOf, markDown, markUp } from "../pipeline/metrics.ts";
import type { ConsumerBus, HistoryStore, LatestCache } from "../ports.ts";
import { unlessStopped } from "../retry.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../status/app.ts";
import { createHeapBound } from "./heap-bound.ts";

/**
 * Runs the consumer until the signal aborts or the bus fails for good: batches into history then cache,
 * committed after both, with the status page and API served on `host`:`port` (default 127.0.0.1) meanwhile. Before consuming, it rebuilds
 * the latest cache from the history (a cache that lost its keys would otherwise miss each pair until its next
 * tick); a failure there is logged and retried in the background, and cache misses of the status app repair
 * too. Closes everything it was given on the way out.
 * @example await runConsumerService({ bus, history, cache, log, signal, port: 8080, fetchIntervalMs });
 */
export async function runConsumerService(deps: {
  bus: ConsumerBus;
  history: HistoryStore;
  cache: LatestCache;
  log: Logger;
  signal: AbortSignal;
  port: number;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  fetchIntervalMs: number;
  demo?: boolean;
  /** The configured pairs, which the status page lists first. Default: the cache's pairs only. */
  pairs?: { assets: string[]; currencies: string[] };
}): Promise<void> {
  const { bus, history, cache, log, signal } = deps;
  const metrics = createConsumerMetrics();
  const feed = createTickFeed();
  // The API's latest view hears the writes on a feed of its own: the live-stream feed counts its listeners.
  const writes = createTickFeed();
  const startedAt = Date.now();
  const repair = createLatestRepair({ history, cache, log });
  const repairs = new AbortController();
  const app = createStatusApp({
    cache,
    history,
    log,
    fetchIntervalMs: deps.fetchIntervalMs,
    subscribe: feed.subscribe,
    written: writes.subscribe,
    repair,
    pairs: deps.pairs,
    health: () => ({ metrics, lag: bus.lag(), startedAt, demo: deps.demo ?? false }),
  });
  // One warn line when Kafka stops answering and one when it answers again, as for the sinks.
  bus.watch?.((error) => {
    if (error) {
      const failure = failureOf(error, log.redact);
      if (markDown(metrics, "kafka", failure, Date.now()))
        log.warn("kafka down", { error: failure.error, fix: failure.fix, retrying: true });
      return;
    }
    const downMs = markUp(metrics, "kafka", Date.now());
    if (downMs !== null) log.warn("kafka recovered", { downMs });
  });
  const host = deps.host ?? "127.0.0.1";
  const server = serveStatus(app, deps.port, host);
  log.info("status page", { url: `http://${browsable(host)}:${server.port}/`, host });
  try {
    await unlessStopped(signal, refuseMisconfiguredSinks(history, cache, log));
    // The sinks may be down at start: that must not keep the consumer from starting, only delay the repair.
    if (!(await unlessStopped(signal, repair()))) void repairUntilDone(repair, { signal: repairs.signal });
    // A stop asked for during the repair: the listener below would never hear it.
    if (signal.aborted) return;
    const heap = createHeapBound();
    const processBatch = createBatchProcessor({
      history,
      cache,
      deadLetters: bus.deadLetters,
      log,
      metrics,
      onWritten: (ticks, newest) => {
        // The latest view keeps the newest tick per pair: the rest of the batch would each be serialised and
        // hashed for an answer at once replaced.
        writes.publish(newest);
        feed.publish(ticks);
        heap.written(ticks.length);
      },
    });
    const subscription = await bus.subscribe(processBatch, signal);
    log.info("consumer started");
    const stop = () => void subscription.stop();
    signal.addEventListener("abort", stop, { once: true });
    // A stop that came while the group was being joined: the listener above would never fire.
    if (signal.aborted) stop();
    try {
      await subscription.done;
    } finally {
      signal.removeEventListener("abort", stop);
      await subscription.stop();
    }
  } finally {
    repairs.abort();
    await server.stop(true);
    await Promise.allSettled([bus.close(), history.close(), cache.close()]);
    log.info("consumer stopped", { ...metrics });
  }
}

/**
 * Pings both sinks before the consumer joins its group: a failure its dependency knows to be a setting to fix
 * (a rejected password, a missing table, no permission) stops the start with that one line, while one that
 * may pass (the server is down or slow) only warns, since the batch loop rides it out. Once running, even a
 * permanent error is retried, so that a rotated password loses nothing.
 */
async function refuseMisconfiguredSinks(
  history: HistoryStore,
  cache: LatestCache,
  log: Logger,
): Promise<void> {
  // Side by side: a slow sink's timeout need not come on top of the other's.
  const [historyPing, cachePing] = await Promise.allSettled([history.ping(), cache.ping()]);
  const sinks = [
    ["history", historyPing],
    ["cache", cachePing],
  ] as const;
  for (const [sink, ping] of sinks) {
    if (ping.status === "fulfilled") continue;
    const error = ping.reason;
    if (error instanceof BellyError && error.hint !== undefined && !error.retriable) throw error;
    log.warn("sink does not answer at start; consuming anyway, writes are retried", {
      sink,
      error: describeError(error),
    });
  }
}

/** The address a browser on this machine opens for a server listening on `host` (a wildcard is every address). */
function browsable(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "[::]") return "127.0.0.1";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
