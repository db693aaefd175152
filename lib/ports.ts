/**
 * Every interface the core uses, in one place: the price source, the bus (publisher, messages, dead letters,
 * batches, subscription), the history store and the latest cache. Adapters implement them; the pipeline,
 * the status app and the doctor depend on nothing else of an adapter.
 */
import type { Tick } from "./tick.ts";

/** A pair that a source cycle could not turn into a tick, and why. */
export interface SkippedPair {
  asset: string;
  currency: string;
  reason: string;
}

/** What one fetch of the price source gave. */
export interface FetchResult {
  ticks: Tick[];
  skipped: SkippedPair[];
}

/** Port: fetches the current prices of every configured asset in every configured currency. */
export interface PriceSource {
  /** One request for all pairs. Throws SourceError when the whole request failed. */
  fetch(signal?: AbortSignal): Promise<FetchResult>;
}

/** One request's span of a price history: `from` inclusive, `to` exclusive unless `closed` (epoch ms). */
export interface ChartWindow {
  from: number;
  to: number;
  /** Whether `to` itself belongs to the window (the last one, ending now). */
  closed: boolean;
  /** The spacing of the points the source serves for it, e.g. "5m", "1h", "1d". */
  granularity: string;
}

/** What one window of a price history gave: ticks, and how many points could not be one. */
export interface ChartFetchResult {
  ticks: Tick[];
  dropped: number;
}

/** Port: the past prices of one pair, fetched window by window (backfill and gap healing). */
export interface ChartSource {
  /** Spacing of the finest points it serves, in ms: a gap shorter than two of them has nothing to fill it. */
  readonly finestMs: number;
  /** Splits [from, to] into the windows that give the finest points the source serves, oldest first. */
  windows(from: number, to: number, now: number): ChartWindow[];
  /** The ticks of one window, each price with the market cap and volume of the same time. */
  fetch(
    asset: string,
    currency: string,
    window: ChartWindow,
    signal?: AbortSignal,
  ): Promise<ChartFetchResult>;
}

/** Port: the newest tick time per pair the bus holds (from the tail of its log). */
export interface PublishedTail {
  /** Epoch ms of the newest sourceUpdatedAt per pair (asset:currency) among the last messages. */
  newest(signal?: AbortSignal): Promise<Map<string, number>>;
}

/** Where a {@link PriceStream} delivers what it reads. */
export interface PriceStreamSink {
  /** The readings of one stream message: a tick, or a pair skipped with its reason (a null price, say). */
  readings(result: FetchResult): void;
  /**
   * The stream is live (subscribed, its coins chosen and acknowledged) or not (connecting, reconnecting after a
   * drop); `reason` says why it went down. While it is not live the producer polls the price source instead.
   */
  live(live: boolean, reason?: string): void;
}

/** Port: prices pushed as they change (CoinGecko's WebSocket stream), for the configured pairs. */
export interface PriceStream {
  /**
   * Connects and subscribes, and again after every drop (with backoff), until `signal` aborts; then
   * unsubscribes, closes and resolves. Never rejects for a failure of the stream: it reports it through `live`.
   */
  run(sink: PriceStreamSink, signal: AbortSignal): Promise<void>;
}

/** Port: publishes ticks to the bus. */
export interface TickPublisher {
  /** Publishes all ticks; resolves once the bus has acknowledged every one. */
  publish(ticks: Tick[]): Promise<void>;
  close(): Promise<void>;
}

/** A message read from the bus, independent of the Kafka client. */
export interface BusMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Port: where messages that fail validation go, with the reason. */
export interface DeadLetters {
  /** Sends the messages to the dead-letter topic; resolves once the bus acknowledged them. */
  send(items: { message: BusMessage; reason: string }[]): Promise<void>;
}

/** Per-batch hooks from the bus: stop signal and a heartbeat that keeps the group membership alive. */
export interface BatchContext {
  signal: AbortSignal;
  heartbeat(): Promise<void>;
}

/** Handles one partition's batch; resolving means every message is written and may be committed. */
export type BatchHandler = (messages: BusMessage[], ctx: BatchContext) => Promise<unknown>;

/** A running consumer: `done` settles when it stops (rejects when it crashed for good). */
export interface Subscription {
  done: Promise<void>;
  /** Abandons the current batch without committing it, leaves the group and disconnects. */
  stop(): Promise<void>;
}

/** Port: what the consumer needs from a bus: batches, a dead-letter topic, and its lag when known. */
export interface ConsumerBus {
  deadLetters: DeadLetters;
  /** Starts consuming; `signal` aborts the start (a stop while joining) with a StoppedError. */
  subscribe(handler: BatchHandler, signal?: AbortSignal): Promise<Subscription>;
  /** Messages not yet committed, or null when unknown. */
  lag(): number | null;
  /**
   * Tells `listener` what each health check of the bus found: the error (with its fix as `hint`) while the
   * bus cannot be reached, null while it can. Optional: an in-process bus cannot fail.
   */
  watch?(listener: (error: Error | null) => void): void;
  close(): Promise<void>;
}

/** A time window of one pair: `from` inclusive, `to` exclusive, both optional. */
export interface RangeQuery {
  asset: string;
  currency: string;
  from?: Date;
  to?: Date;
  /** At most this many ticks, the most recent of the window. Default 1000. */
  limit?: number;
}

/** Candle widths the stores compute. */
export const CANDLE_INTERVALS = { "5m": 300_000, "1h": 3_600_000, "1d": 86_400_000 } as const;
/** One of {@link CANDLE_INTERVALS}. */
export type CandleInterval = keyof typeof CANDLE_INTERVALS;

/** Open, high, low and close of one pair over one bucket (buckets start on UTC multiples of the width). */
export interface Candle {
  /** ISO start of the bucket. */
  start: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Ticks in the bucket. */
  count: number;
}

/** Most pairs {@link HistoryStore.latest} returns: a bound on one read, far above any real configuration. */
export const LATEST_MAX_PAIRS = 10_000;

/** Port: the price history, idempotent on (asset, currency, sourceUpdatedAt). */
export interface HistoryStore {
  /** Inserts the ticks not yet stored; returns how many were new. */
  upsert(ticks: Tick[]): Promise<{ inserted: number }>;
  /** The most recent ticks of one pair, newest first. Default limit 100. */
  recent(asset: string, currency: string, limit?: number): Promise<Tick[]>;
  /** Ticks of one pair in a window, oldest first (the most recent `limit` of the window). */
  range(query: RangeQuery): Promise<Tick[]>;
  /** OHLC candles of one pair in a window, oldest first, computed by the store. */
  candles(query: RangeQuery & { interval: CandleInterval }): Promise<Candle[]>;
  /**
   * The newest tick of every pair the history holds, ordered by asset then currency as the store sorts text;
   * at most {@link LATEST_MAX_PAIRS} pairs (which ones a store keeps past that is its own choice). What rebuilds
   * a latest cache that lost its keys.
   */
  latest(): Promise<Tick[]>;
  /** Resolves when the store answers; throws SinkError otherwise (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Port: the latest tick per pair; a write never replaces a newer tick. */
export interface LatestCache {
  /** Stores each tick unless the cache holds a newer or equal one for its pair; returns how many replaced. */
  putIfNewer(ticks: Tick[]): Promise<{ updated: number }>;
  /** The latest tick of one pair, or null. */
  get(asset: string, currency: string): Promise<Tick | null>;
  /** Every pair ever cached, sorted by asset then currency. */
  pairs(): Promise<{ asset: string; currency: string }[]>;
  /** Resolves when the cache answers; throws SinkError otherwise (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
