import { BellyError, BusError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { FetchResult, PriceSource, TickPublisher } from "../ports.ts";
import { withTimeout } from "../retry.ts";
import { type Tick, tickKey } from "../tick.ts";
import type { Outbox } from "./outbox.ts";
import { createProducerMetrics, type ProducerMetrics } from "./producer-metrics.ts";
import type { TickGate } from "./tick-gate.ts";

/** What one producer cycle did. */
export interface CycleReport {
  fetched: number;
  published: number;
  /** Ticks of earlier cycles that the bus had refused, sent again with this one. */
  resent: number;
  skipped: { pair: string; reason: string }[];
  latencyMs: number;
  /** Pairs (asset:currency) with a tick in the publish, each once; left out of the log line. */
  publishedPairs: string[];
}

/** What {@link runCycle} needs; only the source, the publisher and the log are required. */
export interface CycleDeps {
  source: PriceSource;
  publisher: TickPublisher;
  log: Logger;
  signal?: AbortSignal;
  /** Throw when no pair gave a valid price (for `--once`, where a silent empty cycle hides a typo). */
  requireTicks?: boolean;
  /** Keeps the ticks of a failed publish for the next cycle (the producer loop passes one). */
  outbox?: Outbox;
  /** Counters for /metrics. Default: fresh ones nobody reads. */
  metrics?: ProducerMetrics;
  /**
   * Longest wait for Kafka to acknowledge a publish; past it the ticks stay in the outbox for the next cycle.
   * Default none (`--once` waits for the answer).
   */
  publishTimeoutMs?: number;
  /** The publishing rule and the guard between the source and the publisher. Default none: every tick goes. */
  gate?: TickGate;
  /** Log the cycle line at debug level (a stream publishes many small batches). Default false: info. */
  quiet?: boolean;
  /** Monotonic clock for the latency. Default performance.now. */
  now?: () => number;
  /** Wall clock for the metrics' last success. Default Date.now. */
  clock?: () => number;
  /** Told the ticks of each publish the bus acknowledged (the gap finder reads them). Default none. */
  onPublished?: (ticks: readonly Tick[]) => void;
}

/**
 * One producer cycle: one source request for all pairs, then one publish of the valid ticks (with those an
 * outbox held from cycles whose publish failed).
 * Logs one JSON line with pairs fetched, published, skipped (and why) and latency; throws when the source or
 * the bus failed, so that `--once` can exit non-zero. Counts all of it in `metrics` when given.
 * @example await runCycle({ source, publisher, log, metrics });
 */
export async function runCycle(deps: CycleDeps): Promise<CycleReport> {
  const metrics = deps.metrics ?? createProducerMetrics();
  // A cycle cut short by the stop signal is no failure of the source or the bus: it is not counted.
  const stopping = () => deps.signal?.aborted === true;
  try {
    const report = await cycle(deps, metrics, stopping);
    metrics.cycles.ok++;
    metrics.lastSuccessAt = (deps.clock ?? Date.now)();
    return report;
  } catch (error) {
    if (!stopping()) metrics.cycles.failed++;
    throw error;
  }
}

async function cycle(
  deps: CycleDeps,
  metrics: ProducerMetrics,
  stopping: () => boolean,
): Promise<CycleReport> {
  const now = deps.now ?? performance.now.bind(performance);
  const started = now();
  let fetched: FetchResult;
  try {
    fetched = await deps.source.fetch(deps.signal);
  } catch (error) {
    if (!stopping()) metrics.sourceErrors++;
    throw error;
  }
  const { skipped } = fetched;
  const ticks = deps.gate ? await deps.gate.admit(fetched.ticks) : fetched.ticks;
  for (const { reason } of skipped) metrics.skipped.set(reason, (metrics.skipped.get(reason) ?? 0) + 1);
  const outgoing = deps.outbox ? deps.outbox.withHeld(ticks) : ticks;
  try {
    await publishWithin(deps, outgoing);
    deps.outbox?.clear();
    deps.onPublished?.(outgoing);
  } catch (error) {
    if (!stopping()) metrics.publishErrors++;
    const dropped = deps.outbox?.hold(outgoing) ?? 0;
    metrics.outboxSize = deps.outbox?.size ?? 0;
    if (deps.outbox)
      deps.log.warn("publish failed: ticks held for the next cycle", { held: deps.outbox.size, dropped });
    throw error;
  }
  metrics.ticksPublished += outgoing.length;
  metrics.outboxSize = 0;
  const report: CycleReport = {
    fetched: fetched.ticks.length + skipped.length,
    published: outgoing.length,
    resent: outgoing.length - ticks.length,
    skipped: skipped.map((s) => ({ pair: tickKey(s), reason: s.reason })),
    latencyMs: Math.round(now() - started),
    publishedPairs: [...new Set(outgoing.map(tickKey))],
  };
  const { publishedPairs: _pairs, ...line } = report;
  if (deps.quiet) deps.log.debug("cycle", line);
  else deps.log.info("cycle", line);
  if (deps.requireTicks && fetched.ticks.length === 0 && skipped.length > 0) {
    const reasons = report.skipped.map((s) => `${s.pair}: ${s.reason}`).join(", ");
    throw new BellyError(`no valid price to publish (${reasons})`, {
      hint: "check ASSETS (CoinGecko ids such as beldex) and VS_CURRENCIES",
    });
  }
  return report;
}

/** The send a publisher has not answered yet, per publisher: at most one is ever in flight. */
const unanswered = new WeakMap<TickPublisher, Promise<void>>();

/**
 * The publisher's send still waiting for Kafka's answer, if any; a stop waits for it before its last publish.
 * @example await unansweredSend(publisher)?.catch(() => {});
 */
export function unansweredSend(publisher: TickPublisher): Promise<void> | undefined {
  return unanswered.get(publisher);
}

/**
 * Publishes, giving up waiting after `publishTimeoutMs`: a broker that stays connected but keeps answering with
 * retriable errors (a leader moving, too few in-sync replicas) would otherwise hold the loop, and no CoinGecko
 * reading would be taken meanwhile. The send itself is not abandoned: until it is answered no other send
 * starts (cycles hold their ticks instead), because a second send racing an unanswered one of the idempotent
 * producer can be taken by the broker as a duplicate and dropped. Ticks held while the first was unanswered
 * are sent again once it is; the consumer's idempotent sinks absorb what both carried.
 */
async function publishWithin(deps: CycleDeps, ticks: Tick[]) {
  const timeoutMs = deps.publishTimeoutMs;
  if (timeoutMs === undefined) return deps.publisher.publish(ticks);
  if (unanswered.has(deps.publisher))
    throw new BusError("the previous publish is still waiting for Kafka's answer", {
      hint: "the ticks are held and sent once it is answered; check the cluster's health",
      retriable: true,
    });
  const sending = deps.publisher.publish(ticks);
  unanswered.set(deps.publisher, sending);
  sending.then(
    () => unanswered.delete(deps.publisher),
    () => unanswered.delete(deps.publisher),
  );
  await withTimeout(
    timeoutMs,
    () => sending,
    () =>
      new BusError(`Kafka did not acknowledge the publish within ${timeoutMs / 1000} s`, {
        hint: "the ticks are held and sent again once Kafka answers; check the cluster's health",
        retriable: true,
      }),
  );
}
