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

/** Port: publishes ticks to the bus. */
export interface TickPublisher {
  /** Publishes all ticks; resolves once the bus has acknowledged every one. */
  publish(ticks: Tick[]): Promise<void>;
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
