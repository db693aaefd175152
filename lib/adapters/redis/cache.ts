import { RedisClient } from "bun";
import { failureOptions, SinkError } from "../../errors.ts";
import type { LatestCache } from "../../ports.ts";
import { withTimeout } from "../../retry.ts";
import { classifyRedisError } from "./failures.ts";
import { createLatestCache, type LatestCommands } from "./latest-cache.ts";
import { PUT_IF_NEWER_SCRIPT } from "./latest-script.ts";

/** Deadline of one command: a frozen link becomes an error the consumer retries, well within its session. */
const COMMAND_TIMEOUT_MS = 5_000;

/** Errors after which Bun's client is done for: it gave up reconnecting, or a command hung past its deadline. */
const CLIENT_GONE = /max reconnection|connection has failed|connection closed|no answer within/i;

/**
 * Latest cache on Redis through Bun's built-in client (redis:// or rediss://): one script call per batch,
 * each command bounded by a 5 s deadline. Bun's client stops reconnecting after a few failed attempts, so a
 * client that gave up (or hung) is replaced by a new one and the next call reconnects: an outage of any
 * length ends by itself once Redis answers again.
 * @example const cache = createRedisCache("redis://127.0.0.1:16379");
 */
export function createRedisCache(url: string): LatestCache & { readonly client: RedisClient } {
  // The offline queue lets the first command wait for the connection instead of failing at once.
  const open = () => new RedisClient(url, { connectionTimeout: 5_000, maxRetries: 3 });
  let client = open();
  let sha: string | null = null;
  const user = decodeURIComponent(URL.parse(url)?.username ?? "") || undefined;
  const sinkError = (what: string, cause: unknown): SinkError =>
    new SinkError("cache", `${what} failed`, { cause, ...failureOptions(classifyRedisError(cause, user)) });

  const call = async <T>(command: (redis: RedisClient) => Promise<T>): Promise<T> => {
    const used = client;
    try {
      return await withTimeout(
        COMMAND_TIMEOUT_MS,
        () => command(used),
        () => new Error(`Redis: no answer within ${COMMAND_TIMEOUT_MS} ms (connection timeout)`),
      );
    } catch (error) {
      if (used === client && CLIENT_GONE.test(String((error as Error)?.message))) {
        client = open();
        sha = null; // a new server may not hold the script
        used.close();
      }
      throw error;
    }
  };
  const evalsha = (keys: string[], args: string[]) =>
    call(async (redis) =>
      Number(await redis.send("EVALSHA", [sha ?? "", String(keys.length), ...keys, ...args])),
    );

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
      sha = String(await call((redis) => redis.send("SCRIPT", ["LOAD", PUT_IF_NEWER_SCRIPT])));
      return evalsha(keys, args);
    },
    hget: (key, field) => call((redis) => redis.hget(key, field)),
    smembers: (key) => call(async (redis) => (await redis.smembers(key)) as string[]),
    ping: () => call((redis) => redis.ping()),
    close: () => client.close(),
  };
  return {
    get client() {
      return client;
    },
    ...createLatestCache(commands, sinkError),
  };
}
