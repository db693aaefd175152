// The Upstash latest cache: the official @upstash/redis client over a local REST bridge to the real Redis.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { RedisClient } from "bun";
import { latestKey, PAIRS_KEY, sortPairs } from "../lib/adapters/redis/latest-script.ts";
import { createUpstashCache } from "../lib/adapters/upstash/cache.ts";
import { describeError, SinkError } from "../lib/errors.ts";
import { cacheContract } from "./contracts/cache-contract.ts";
import { useStack } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

/** A logical database no other suite writes to, so nothing here can touch their keys. */
const DB = 3;
const TOKEN = `test-token-${crypto.randomUUID()}`;

/** Removes the latest keys and pairs-set members of these assets, straight on Redis. */
async function removeAssets(redisUrl: string, assets: string[]): Promise<void> {
  const url = new URL(redisUrl);
  url.pathname = `/${DB}`;
  const redis = new RedisClient(url.toString());
  try {
    const pairs = sortPairs((await redis.smembers(PAIRS_KEY)) as string[]).filter((p) =>
      assets.includes(p.asset),
    );
    if (pairs.length === 0) return;
    await redis.send(
      "DEL",
      pairs.map((p) => latestKey(p.asset, p.currency)),
    );
    await redis.send("SREM", [PAIRS_KEY, ...pairs.map((p) => `${p.asset}:${p.currency}`)]);
  } finally {
    redis.close();
  }
}

let contractBridge: UpstashBridge | undefined;
cacheContract("Upstash (@upstash/redis over the REST bridge)", async () => {
  const { redisUrl } = await useStack();
  const bridge = await startUpstashBridge({ redisUrl, token: TOKEN, db: DB });
  contractBridge = bridge;
  return {
    cache: createUpstashCache({ url: bridge.url, token: TOKEN }),
    dispose: (assets) => removeAssets(redisUrl, assets),
  };
});
afterAll(() => contractBridge?.stop());

describe("Upstash latest cache", () => {
  let redisUrl: string;
  let bridge: UpstashBridge;
  const asset = `u${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    redisUrl = (await useStack()).redisUrl;
    bridge = await startUpstashBridge({ redisUrl, token: TOKEN, db: DB });
  });
  afterAll(async () => {
    await removeAssets(redisUrl, [asset]);
    await bridge?.stop();
  });

  test("sends one HTTP request per batch, the first one included", async () => {
    const cache = createUpstashCache({ url: bridge.url, token: TOKEN });
    const batch = (minute: number) =>
      ["usd", "eur", "btc"].map((currency) => makeTick({ asset, currency }, minute));
    for (const [minute, updated] of [
      [1, 3],
      [2, 3],
    ] as const) {
      const before = bridge.requests;
      expect(await cache.putIfNewer(batch(minute))).toEqual({ updated });
      expect(bridge.requests - before).toBe(1);
    }
  });

  test("reloads its script after Redis forgot it", async () => {
    const cache = createUpstashCache({ url: bridge.url, token: TOKEN });
    await cache.putIfNewer([makeTick({ asset }, 3)]);
    const redis = new RedisClient(redisUrl);
    await redis.send("SCRIPT", ["FLUSH"]);
    redis.close();
    expect(await cache.putIfNewer([makeTick({ asset }, 4)])).toEqual({ updated: 1 });
    expect((await cache.get(asset, "usd"))?.sourceUpdatedAt).toBe(makeTick({ asset }, 4).sourceUpdatedAt);
  });

  test("a wrong token fails with a hint naming REDIS_TOKEN and never shows the token", async () => {
    const secret = `wrong-${crypto.randomUUID()}`;
    const cache = createUpstashCache({ url: bridge.url, token: secret });
    for (const attempt of [() => cache.putIfNewer([makeTick({ asset }, 9)]), () => cache.ping()]) {
      const error = await attempt().catch((e) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect(error.hint).toContain("REDIS_TOKEN");
      const shown = `${describeError(error)} ${error.stack} ${String(error.cause?.message)}`;
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain(TOKEN);
    }
    expect(await createUpstashCache({ url: bridge.url, token: TOKEN }).get(asset, "usd")).not.toBeNull();
  });

  test("an unreachable URL fails with a hint naming REDIS_URL", async () => {
    const cache = createUpstashCache({ url: "http://127.0.0.1:1", token: TOKEN });
    const error = await cache.ping().catch((e) => e);
    expect(error).toBeInstanceOf(SinkError);
    expect(error.message).toContain("cache");
    expect(error.hint).toContain("REDIS_URL");
    expect(describeError(error)).not.toContain(TOKEN);
  });

  test("gives up after timeoutMs when nothing answers, instead of resolving as the client would", async () => {
    // With a plain AbortSignal @upstash/redis turns the abort into a 200 "Aborted" result; ours must reject.
    const silent = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Promise<Response>(() => {}),
    });
    try {
      const cache = createUpstashCache({
        url: `http://127.0.0.1:${silent.port}`,
        token: TOKEN,
        timeoutMs: 200,
      });
      const started = performance.now();
      const error = await cache.get(asset, "usd").catch((e) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect(error.hint).toContain("REDIS_URL");
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.stop(true);
    }
  });

  test("refuses a redis:// URL at once, without echoing its password", () => {
    const create = () =>
      createUpstashCache({ url: "rediss://default:pa55word@eu1-x.upstash.io:6379", token: TOKEN });
    expect(create).toThrow(SinkError);
    const error = (() => {
      try {
        create();
      } catch (e) {
        return e as SinkError;
      }
    })();
    expect(error?.hint).toContain("REDIS_URL");
    expect(error?.message).not.toContain("pa55word");
  });
});

describe("Upstash REST bridge", () => {
  let bridge: UpstashBridge;
  const key = `bridge-${crypto.randomUUID()}`;
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) =>
    fetch(`${bridge.url}${path}`, {
      ...init,
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }),
        ...(init.headers as Record<string, string>),
      },
    });

  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: (await useStack()).redisUrl, token: TOKEN, db: DB });
  });
  afterAll(async () => {
    await call("/", { method: "POST", body: JSON.stringify(["DEL", key, `${key}:n`, `${key}:tx`]) });
    await bridge?.stop();
  });

  test("answers 401 Unauthorized to a missing or wrong token, like Upstash", async () => {
    for (const token of [null, "nope"]) {
      const response = await call("/ping", { token });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: "Unauthorized" });
    }
  });

  test("answers 400 with an error body to an unknown command or a malformed body", async () => {
    const unknown = await call("/", { method: "POST", body: JSON.stringify(["NOSUCHCOMMAND", "x"]) });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatch(/unknown command/i);
    const malformed = await call("/", { method: "POST", body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toHaveProperty("error");
  });

  test("runs path-style commands, takes the token as _token, and base64-encodes strings but OK", async () => {
    expect(await (await call(`/set/${key}/bar`)).json()).toEqual({ result: "OK" });
    const plain = await fetch(`${bridge.url}/get/${key}?_token=${TOKEN}`);
    expect(await plain.json()).toEqual({ result: "bar" });
    const encoded = await call(`/get/${key}`, { headers: { "Upstash-Encoding": "base64" } });
    expect(await encoded.json()).toEqual({ result: btoa("bar") });
  });

  test("serves the official client's pipelines and transactions", async () => {
    const redis = new Redis({
      url: bridge.url,
      token: TOKEN,
      enableTelemetry: false,
      enableAutoPipelining: false,
      automaticDeserialization: false,
    });
    const piped = await redis.pipeline().set(`${key}:n`, "1").incr(`${key}:n`).get(`${key}:n`).exec();
    expect(piped).toEqual(["OK", 2, "2"]);
    const tx = await redis.multi().set(`${key}:tx`, "héllo").get(`${key}:tx`).exec();
    expect(tx).toEqual(["OK", "héllo"]);
    const kept = await redis.pipeline().incr(`${key}:tx`).get(`${key}:tx`).exec({ keepErrors: true });
    expect(kept[0]?.error).toMatch(/not an integer/);
    expect(kept[1]?.result).toBe("héllo");
  });
});
