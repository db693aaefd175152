// What the status app needs from its host process, and the same with defaults applied.
import type { Logger } from "../log.ts";
import type { ConsumerMetrics } from "../pipeline/metrics.ts";
import type { HistoryStore, LatestCache } from "../ports.ts";
import { type Tick, tickKey } from "../tick.ts";
import { boundedRepair, repairOnMiss } from "./cache-repair.ts";
import { type ChartCache, createChartCache } from "./chart-cache.ts";
import { createLatestView, type LatestView } from "./latest-view.ts";
import {
  type CacheReader,
  DEFAULT_SINK_TIMEOUT_MS,
  guardCache,
  guardHistory,
  type HistoryReader,
} from "./sinks.ts";

/**
 * What the consumer reports about itself, read on every status request (so keep it cheap: plain fields).
 * @example const health = () => ({ metrics, lag: null, startedAt: Date.now() });
 */
export interface PipelineHealth {
  /** The consumer's live counters (the same object the batch processor mutates is fine). */
  metrics: ConsumerMetrics;
  /** Total consumer-group lag in messages, or null when not known (yet). */
  lag: number | null;
  /** Epoch milliseconds when the consumer started. */
  startedAt: number;
  /** True when the ticks are generated (demo mode), not CoinGecko's; the page then says so in a banner. */
  demo?: boolean;
}

/**
 * Dependencies of {@link createStatusApp}.
 * @example
 * const feed = createTickFeed();
 * const app = createStatusApp({ cache, history, health: () => ({ metrics, lag, startedAt }), fetchIntervalMs: 600_000,
 *   subscribe: feed.subscribe });
 */
export interface StatusDeps {
  cache: LatestCache;
  history: HistoryStore;
  /** The consumer's health, read on each request. */
  health: () => PipelineHealth;
  /** The producer's poll interval; data is stale when the newest tick is older than twice this. */
  fetchIntervalMs: number;
  /** Clock (epoch ms). Default Date.now. */
  now?: () => number;
  /** Live ticks for `/api/stream` (e.g. `createTickFeed().subscribe`); without it the page is not live. */
  subscribe?: (listener: (tick: Tick) => void) => () => void;
  /**
   * The consumer's writes, each tick once the cache holds it (a feed of its own, so that it never counts as a
   * live stream): `/api/latest` and `/api/pairs` answer them at once. Without it, only cache reads past
   * `latestTtlMs` bring new ticks.
   */
  written?: (listener: (tick: Tick) => void) => () => void;
  /**
   * How long `/api/latest` and `/api/pairs` answer a pair from memory before reading the cache again, which
   * bounds how stale a pair another consumer writes can be. Default 1000 ms.
   */
  latestTtlMs?: number;
  /** Where sink failures are logged (they are answered 503 without details). Default: not logged. */
  log?: Logger;
  /** How long a request waits for a sink before answering 503. Default 3000 ms. */
  sinkTimeoutMs?: number;
  /**
   * Rebuilds the latest cache from the history (e.g. createLatestRepair), run when a read finds the cache empty
   * or missing a pair the history knows; a request waits for it at most `sinkTimeoutMs`. Default: misses are
   * answered as they are.
   */
  repair?: () => Promise<unknown>;
  /** Interval of the live stream's heartbeat, which also refreshes the health panel. Default 15000 ms. */
  heartbeatMs?: number;
  /** Most live streams open at once; more are answered 503. Default 100. */
  maxStreams?: number;
  /**
   * The configured pairs (ASSETS x VS_CURRENCIES): the page lists them first, asset by asset, and opens on the
   * first asset in the first currency; pairs the cache holds beyond them follow. Default none: the cache's pairs
   * in alphabetical order.
   */
  pairs?: { assets: string[]; currencies: string[] };
}

/** {@link StatusDeps} with defaults applied and sinks guarded (bounded in time, one error type). */
export interface StatusContext {
  /** With misses repaired when {@link StatusDeps.repair} is given. */
  cache: CacheReader;
  history: HistoryReader;
  /** The chart's reads per pair, kept until the pair's next tick (or one fetch interval). */
  charts: ChartCache;
  /** The latest ticks as the API answers them, filled by {@link StatusDeps.written} and cache reads. */
  latest: LatestView;
  /** Runs {@link StatusDeps.repair}, waiting at most the sink timeout; never throws; a no-op without it. */
  repairLatest: () => Promise<void>;
  health: () => PipelineHealth;
  fetchIntervalMs: number;
  now: () => number;
  subscribe: StatusDeps["subscribe"];
  log: Logger | undefined;
  heartbeatMs: number;
  maxStreams: number;
  /** Configured pairs as "asset:currency" keys, asset by asset in the configured order; empty when none. */
  pairs: string[];
}

/** Applies the defaults of {@link StatusDeps}. */
export function resolveDeps(deps: StatusDeps): StatusContext {
  const timeoutMs = deps.sinkTimeoutMs ?? DEFAULT_SINK_TIMEOUT_MS;
  const cache = guardCache(deps.cache, timeoutMs);
  const history = guardHistory(deps.history, timeoutMs);
  const repairLatest = deps.repair ? boundedRepair(deps.repair, timeoutMs) : async () => {};
  const now = deps.now ?? Date.now;
  const reader = deps.repair ? repairOnMiss(cache, history, repairLatest) : cache;
  return {
    cache: reader,
    history,
    charts: createChartCache({ maxAgeMs: deps.fetchIntervalMs, now }),
    // Filled from the cache without repair: a start must not read the history (the consumer repairs anyway).
    latest: createLatestView({
      cache: reader,
      fillFrom: cache,
      repair: deps.repair ? repairLatest : undefined,
      ttlMs: deps.latestTtlMs,
    }),
    repairLatest,
    health: deps.health,
    fetchIntervalMs: deps.fetchIntervalMs,
    now,
    subscribe: deps.subscribe,
    log: deps.log,
    heartbeatMs: deps.heartbeatMs ?? 15_000,
    maxStreams: deps.maxStreams ?? 100,
    pairs: (deps.pairs?.assets ?? []).flatMap((asset) =>
      (deps.pairs?.currencies ?? []).map((currency) => tickKey({ asset, currency })),
    ),
  };
}
