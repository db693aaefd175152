import { RedisClient } from "bun";
import { SinkError } from "../errors.ts";
import type { LatestCache } from "../ports.ts";
import { parseTick } from "../tick.ts";
import {
  latestKey,
  newestPerPair,
  PAIRS_KEY,
  PUT_IF_NEWER_SCRIPT,
  scriptArguments,
  sortPairs,
} from "./latest-script.ts";

function hintFor(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(message)) return "check the password in REDIS_URL";
  if (/ECONNREFUSED|connect|closed|timeout/i.test(message))
    return "check that Redis runs and REDIS_URL is right";
  return undefined;
}

function sinkError(what: string, cause: unknown): SinkError {
  const hint = hintFor(cause);
  return new SinkError("cache", `${what} failed`, hint ? { cause, hint } : { cause });
}

/**
 * Latest cache on Redis through Bun's built-in client (redis:// or rediss://): one script call per batch.
 * @example const cache = createRedisCache("redis://127.0.0.1:16379");
 */
export function createRedisCache(url: string): LatestCache & { client: RedisClient } {
  // The offline queue lets the first command wait for the connection instead of failing at once.
  const client = new RedisClient(url, { connectionTimeout: 5_000, maxRetries: 3 });
  let sha: string | null = null;
  const evalScript = async (keys: string[], args: string[]): Promise<number> => {
    // EVALSHA saves resending the script each batch; NOSCRIPT (after a Redis restart) falls back to EVAL.
    if (sha) {
      try {
        return Number(await client.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]));
      } catch (error) {
        if (!String((error as Error)?.message).includes("NOSCRIPT")) throw error;
      }
    }
    sha = String(await client.send("SCRIPT", ["LOAD", PUT_IF_NEWER_SCRIPT]));
    return Number(await client.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]));
  };
  return {
    client,
    async putIfNewer(ticks) {
      const newest = newestPerPair(ticks);
      if (newest.length === 0) return { updated: 0 };
      const { keys, args } = scriptArguments(newest);
      try {
        return { updated: await evalScript(keys, args) };
      } catch (cause) {
        throw sinkError("write-if-newer", cause);
      }
    },
    async get(asset, currency) {
      let raw: string | null;
      try {
        raw = await client.hget(latestKey(asset, currency), "tick");
      } catch (cause) {
        throw sinkError("read latest", cause);
      }
      return raw ? parseTick(JSON.parse(raw)) : null;
    },
    async pairs() {
      try {
        return sortPairs((await client.smembers(PAIRS_KEY)) as string[]);
      } catch (cause) {
        throw sinkError("read pairs", cause);
      }
    },
    async ping() {
      try {
        await client.ping();
      } catch (cause) {
        throw sinkError("ping", cause);
      }
    },
    async close() {
      client.close();
    },
  };
}
