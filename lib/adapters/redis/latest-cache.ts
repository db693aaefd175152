import type { SinkError } from "../../errors.ts";
import type { LatestCache } from "../../ports.ts";
import { newestPerPair, parseTick } from "../../tick.ts";
import { latestKey, PAIRS_KEY, scriptArguments, sortPairs } from "./latest-script.ts";

/** The few Redis commands a latest cache needs; each transport (Bun's client, Upstash REST) supplies them. */
export interface LatestCommands {
  /** Runs the write-if-newer script (PUT_IF_NEWER_SCRIPT) once; returns how many pairs it replaced. */
  putIfNewer(keys: string[], args: string[]): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
  smembers(key: string): Promise<string[]>;
  ping(): Promise<unknown>;
  close(): void;
}

/**
 * The latest-cache port over any Redis transport: newest tick per pair, one script call per batch, every
 * failure turned into a SinkError by `fail` (which knows the transport's hints).
 * @example return createLatestCache(commands, (what, cause) => new SinkError("cache", `${what} failed`, { cause }));
 */
export function createLatestCache(
  commands: LatestCommands,
  fail: (what: string, cause: unknown) => SinkError,
): LatestCache {
  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      throw fail(what, cause);
    }
  };
  return {
    async putIfNewer(ticks) {
      const newest = newestPerPair(ticks);
      if (newest.length === 0) return { updated: 0 };
      const { keys, args } = scriptArguments(newest);
      return { updated: await attempt("write-if-newer", () => commands.putIfNewer(keys, args)) };
    },
    async get(asset, currency) {
      const raw = await attempt("read latest", () => commands.hget(latestKey(asset, currency), "tick"));
      return raw ? parseTick(JSON.parse(raw)) : null;
    },
    pairs: () => attempt("read pairs", async () => sortPairs(await commands.smembers(PAIRS_KEY))),
    ping: () => attempt("ping", async () => void (await commands.ping())),
    async close() {
      commands.close();
    },
  };
}
