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

/** Port: the price history, idempotent on (asset, currency, sourceUpdatedAt). */
export interface HistoryStore {
  /** Inserts the ticks not yet stored; returns how many were new. */
  upsert(ticks: Tick[]): Promise<{ inserted: number }>;
  /** The most recent ticks of one pair, newest first. Default limit 100. */
  recent(asset: string, currency: string, limit?: number): Promise<Tick[]>;
  close(): Promise<void>;
}

/** Port: the latest tick per pair; a write never replaces a newer tick. */
export interface LatestCache {
  /** Stores each tick unless the cache holds a newer or equal one for its pair; returns how many replaced. */
  putIfNewer(ticks: Tick[]): Promise<{ updated: number }>;
  /** The latest tick of one pair, or null. */
  get(asset: string, currency: string): Promise<Tick | null>;
  close(): Promise<void>;
}
