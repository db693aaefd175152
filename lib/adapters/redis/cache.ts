import { RedisClient } from "bun";
import { failureOptions, SinkError } from "../../errors.ts";
import type { LatestCache } from "../../ports.ts";
import { classifyRedisError } from "./failures.ts";
import { createLatestCache, type LatestCommands } from "./latest-cache.ts";
import { PUT_IF_NEWER_SCRIPT } from "./latest-script.ts";

/**
 * Latest cache on Redis through Bun's built-in client (redis:// or rediss://): one script call per batch.
 * @example const cache = createRedisCache("redis://127.0.0.1:16379");
 */
export function createRedisCache(url: string): LatestCache & { client: RedisClient } {
  // The offline queue lets the first command wait for the connection instead of failing at once.
  const client = new RedisClient(url, { connectionTimeout: 5_000, maxRetries: 3 });
  const user = decodeURIComponent(URL.parse(url)?.username ?? "") || undefined;
  const sinkError = (what: string, cause: unknown): SinkError =>
    new SinkError("cache", `${what} failed`, { cause, ...failureOptions(classifyRedisError(cause, user)) });
  let sha: string | null = null;
  const evalsha = async (keys: string[], args: string[]) =>
    Number(await client.send("EVALSHA", [sha ?? "", String(keys.length), ...keys, ...args]));
  const commands: LatestCommands = {
    async putIfNewer(keys, args) {
      // EVALSHA saves resending the script each batch; NOSCRIPT (after a Redis restart) falls back to loading it.
      if (sha) {
        try {
          return await evalsha(keys, args);
        } catch (error) {
          if (!String((error as Error)?.message).includes("NOSCRIPT")) throw error;
        }
      }
      sha = String(await client.send("SCRIPT", ["LOAD", PUT_IF_NEWER_SCRIPT]));
      return evalsha(keys, args);
    },
    hget: (key, field) => client.hget(key, field),
    smembers: async (key) => (await client.smembers(key)) as string[],
    ping: () => client.ping(),
    close: () => client.close(),
  };
  return { client, ...createLatestCache(commands, sinkError) };
}
