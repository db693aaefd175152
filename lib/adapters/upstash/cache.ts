import { Redis } from "@upstash/redis";
import { failureOptions, SinkError } from "../../errors.ts";
import type { LatestCache } from "../../ports.ts";
import { createLatestCache, type LatestCommands } from "../redis/latest-cache.ts";
import { PUT_IF_NEWER_SCRIPT } from "../redis/latest-script.ts";
import { classifyUpstash, UPSTASH_FIXES, upstashAnswerOf } from "./failures.ts";

/** How to reach an Upstash Redis database over its REST API. */
interface UpstashCacheOptions {
  /** The https:// REST URL from the Upstash console (UPSTASH_REDIS_REST_URL), not the rediss:// one. */
  url: string;
  /** The standard REST token (UPSTASH_REDIS_REST_TOKEN); the database password is rejected by REST. */
  token: string;
  /** Deadline of one command, retries included, in milliseconds. Default 5000. */
  timeoutMs?: number;
}

/** Where the host of a URL is all an error may show: userinfo or a `_token` query would leak a secret. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "an unparsable URL";
  }
}

/**
 * Validates the options before the client sees them: its own UrlError echoes the whole URL (a rediss:// URL
 * carries the password) and a missing token only logs a warning on every request.
 */
function checkOptions({ url, token }: UpstashCacheOptions): void {
  if (!/^https?:\/\/[^\s/?#]+/.test(url) || /^https?:\/\/[^/]*@/.test(url)) {
    throw new SinkError("cache", `Upstash needs its REST URL, got ${describeUrl(url)}`, {
      hint: UPSTASH_FIXES["not-upstash"],
    });
  }
  if (!token || /\s/.test(token)) {
    throw new SinkError("cache", "Upstash REST token is empty or contains whitespace", {
      hint: UPSTASH_FIXES.token,
    });
  }
}

/**
 * Latest cache on Upstash Redis through the official `@upstash/redis` REST client: one HTTP request per
 * batch (EVAL of the shared write-if-newer script the first time, EVALSHA after). Throws SinkError at once
 * when the URL is not an http(s) REST URL or the token is empty.
 * @example const cache = createUpstashCache({ url: "https://eu1-x.upstash.io", token: restToken });
 */
export function createUpstashCache(options: UpstashCacheOptions): LatestCache & { client: Redis } {
  checkOptions(options);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const client = new Redis({
    url: options.url,
    token: options.token,
    // Our values are JSON strings we parse ourselves; the default would turn them into objects (and "1.50" into 1.5).
    automaticDeserialization: false,
    enableTelemetry: false,
    // Each batch is already one script call; auto-pipelining would route every command through /pipeline
    // after a microtask delay and rewrap its errors, for no gain here.
    enableAutoPipelining: false,
    // Only requests that got no answer are retried, and the consumer retries sink writes with its own backoff;
    // one quick retry covers a keep-alive socket the server closed. Replaying the script is harmless.
    retry: { retries: 1, backoff: () => 100 },
    // A function, so that each command gets a fresh deadline; the client throws when it fires.
    signal: () => AbortSignal.timeout(timeoutMs),
  });
  const script = client.createScript<number>(PUT_IF_NEWER_SCRIPT);
  let loaded = false;
  const commands: LatestCommands = {
    async putIfNewer(keys, args) {
      // EVAL also caches the script server-side, so the first batch costs one request, not EVALSHA + EVAL.
      if (loaded) return Number(await script.exec(keys, args));
      const updated = Number(await script.eval(keys, args));
      loaded = true;
      return updated;
    },
    hget: (key, field) => client.hget<string>(key, field),
    smembers: (key) => client.smembers<string[]>(key),
    ping: () => client.ping(),
    // Nothing to release: the client holds no connection beyond fetch's keep-alive pool.
    close: () => {},
  };
  const fail = (what: string, cause: unknown): SinkError =>
    new SinkError("cache", `${what} failed`, {
      cause: withoutToken(cause, options.token),
      ...failureOptions(classifyUpstash(upstashAnswerOf(cause))),
    });
  return { client, ...createLatestCache(commands, fail) };
}

/** The client never puts the token in a message, but a URL might carry it (`?_token=`): keep it out of logs. */
function withoutToken(cause: unknown, token: string): unknown {
  if (!(cause instanceof Error) || !cause.message.includes(token)) return cause;
  const safe = new Error(cause.message.replaceAll(token, "***"));
  safe.name = cause.name;
  return safe;
}
