import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { FetchResult, PriceSource, PriceStream, TickPublisher } from "../ports.ts";
import { backoffDelay, sleep } from "../retry.ts";
import { runSchedule } from "../schedule.ts";
import { tickKey } from "../tick.ts";
import { createOutbox } from "./outbox.ts";
import { runCycle } from "./produce.ts";
import { flushAtStop, publishTimeoutFor } from "./produce-loop.ts";
import { createProducerMetrics, type ProducerMetrics } from "./producer-metrics.ts";
import { createSkipTracker, type SkipTracker } from "./skip-tracker.ts";
import type { TickGate } from "./tick-gate.ts";

/** Backoff between publish attempts of stream readings while Kafka refuses them: below 1 s, doubling to 30 s. */
const PUBLISH_BACKOFF = { baseMs: 1_000, capMs: 30_000 };

/** What {@link runStreamLoop} needs; `metrics` and `tracker` are optional. */
export interface StreamLoopDeps {
  stream: PriceStream;
  /** The REST source, polled on interval boundaries while the stream is down or leaves a pair silent. */
  source: PriceSource;
  publisher: TickPublisher;
  /** Order, guard and publishing rule; every reading, streamed or polled, passes it. */
  gate: TickGate;
  log: Logger;
  signal: AbortSignal;
  /** FETCH_INTERVAL: no interval passes without a price of every pair, from the stream or a poll. */
  intervalMs: number;
  /** The pairs to expect (every asset in every currency). */
  configured: { assets: readonly string[]; currencies: readonly string[] };
  /** Counters for /metrics. Default: fresh ones nobody reads. */
  metrics?: ProducerMetrics;
  /** Per-pair skips and publishes, for the logs and /healthz. Default: a tracker of the configured pairs. */
  tracker?: SkipTracker;
}

/**
 * The producer with the stream on: every stream update is published as soon as it arrives (through the gate,
 * one send in flight, the readings that arrive meanwhile going with the next send), and on every FETCH_INTERVAL
 * boundary the REST source is polled when the stream was not live or some pair had no streamed reading in the
 * interval that ended, so that no interval passes without a price (a poll at start gives one straight away). A
 * publish Kafka refuses keeps its ticks in the outbox and is tried again with backoff; on stop the held ticks
 * get one last bounded chance, and readings the guard still holds are dead-lettered. Logs one line per interval.
 * @example await runStreamLoop({ stream, source, publisher, gate, log, signal, intervalMs, configured });
 */
export async function runStreamLoop(deps: StreamLoopDeps): Promise<void> {
  const { stream, source, publisher, gate, log, signal, intervalMs } = deps;
  const metrics = deps.metrics ?? createProducerMetrics();
  const tracker = deps.tracker ?? createSkipTracker({ log, configured: deps.configured });
  const expected = deps.configured.assets.flatMap((asset) =>
    deps.configured.currencies.map((currency) => tickKey({ asset, currency })),
  );
  const outbox = createOutbox();
  const state = { live: false, drops: 0, polls: 0 };
  metrics.stream = state;
  metrics.gate = gate.counts;
  let pending: FetchResult = { ticks: [], skipped: [] };
  let streamed = 0;
  // Pairs with a streamed tick since the last boundary; the others are polled.
  const heard = new Set<string>();

  const take = (result: FetchResult) => {
    pending.ticks.push(...result.ticks);
    pending.skipped.push(...result.skipped);
  };
  const drain: PriceSource = {
    async fetch() {
      const batch = pending;
      pending = { ticks: [], skipped: [] };
      return batch;
    },
  };
  const hasWork = () => pending.ticks.length + pending.skipped.length + outbox.size > 0;

  let pumping: Promise<void> | null = null;
  const pump = () => {
    if (pumping || signal.aborted) return;
    pumping = (async () => {
      let failures = 0;
      while (!signal.aborted && hasWork()) {
        try {
          const report = await runCycle({
            source: drain,
            publisher,
            log,
            signal,
            outbox,
            metrics,
            gate,
            quiet: true,
            publishTimeoutMs: publishTimeoutFor(intervalMs),
          });
          tracker.observe(report);
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          const delayMs = backoffDelay(failures, PUBLISH_BACKOFF);
          log.warn("publish failed: ticks held, trying again", { error: describeError(error), delayMs });
          await sleep(delayMs, signal).catch(() => {});
        }
      }
    })().finally(() => {
      pumping = null;
      // Readings that came after the last look at `pending` but before this ran.
      if (hasWork()) pump();
    });
  };

  const boundary = async () => {
    const silent = expected.filter((pair) => !heard.has(pair));
    const poll = !state.live || silent.length > 0;
    log.info("stream interval", {
      live: state.live,
      streamed,
      poll,
      silent: state.live ? silent : undefined,
      outbox: outbox.size,
      ...gate.counts,
    });
    heard.clear();
    streamed = 0;
    if (!poll) return;
    state.polls++;
    take(await source.fetch(signal));
    pump();
  };

  const streaming = stream.run(
    {
      readings(result) {
        streamed += result.ticks.length;
        for (const tick of result.ticks) heard.add(tickKey(tick));
        take(result);
        pump();
      },
      live(up, reason) {
        if (up === state.live) return;
        state.live = up;
        if (!up) state.drops++;
        if (up) log.info("stream live: publishing its updates as they come");
        else
          log.warn("stream down: polling CoinGecko over REST on each interval until it is back", { reason });
      },
    },
    signal,
  );
  log.info("producer started", { intervalS: intervalMs / 1000, stream: true });
  await runSchedule({
    intervalMs,
    cycle: boundary,
    signal,
    onError: (error) => log.error("poll failed", { error: describeError(error) }),
    onSkipped: (missed) => log.warn("poll overran, skipped boundaries", { missed }),
  });
  await streaming;
  await pumping;
  // What came in after the last publish: through the gate into the outbox, for the last bounded flush.
  outbox.hold(outbox.withHeld(await gate.admit(pending.ticks)));
  await gate.close();
  await flushAtStop(outbox, publisher, log);
}
