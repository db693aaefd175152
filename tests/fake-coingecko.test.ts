import { afterEach, describe, expect, test } from "bun:test";
import {
  type FakeCoinGecko,
  type FakeCoinGeckoOptions,
  startFakeCoinGecko,
} from "./support/fake-coingecko.ts";

const QUERY =
  "include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true&precision=full";
const NOW = Date.parse("2026-11-26T18:00:00Z");

let fake: FakeCoinGecko | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function start(options: FakeCoinGeckoOptions = {}): Promise<FakeCoinGecko> {
  fake = await startFakeCoinGecko({ now: () => NOW, ...options });
  return fake;
}

function price(f: FakeCoinGecko, query: string, init?: RequestInit): Promise<Response> {
  return fetch(`${f.url}/simple/price?${query}`, init);
}

describe("fake CoinGecko", () => {
  test("serves on 127.0.0.1 with a /api/v3 base URL and answers ping", async () => {
    const f = await start();
    expect(f.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    const response = await fetch(`${f.url}/ping`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ gecko_says: "(V3) To the Moon!" });
  });

  test("answers every requested pair of the default book with all included metrics", async () => {
    const f = await start();
    const body = await (await price(f, `ids=beldex,bitcoin,ethereum&vs_currencies=usd,eur&${QUERY}`)).json();
    expect(Object.keys(body).sort()).toEqual(["beldex", "bitcoin", "ethereum"]);
    expect(Object.keys(body.beldex).sort()).toEqual(
      [
        "eur",
        "eur_24h_change",
        "eur_24h_vol",
        "eur_market_cap",
        "last_updated_at",
        "usd",
        "usd_24h_change",
        "usd_24h_vol",
        "usd_market_cap",
      ].sort(),
    );
    expect(body.beldex.usd).toBeGreaterThan(0.01);
    expect(body.beldex.usd).toBeLessThan(1);
    expect(body.beldex.last_updated_at).toBe(NOW / 1000);
    expect(body.bitcoin.usd).toBeGreaterThan(10_000);
  });

  test("leaves out metrics whose include flag is absent", async () => {
    const f = await start();
    const body = await (await price(f, "ids=beldex&vs_currencies=usd")).json();
    expect(body).toEqual({ beldex: { usd: 0.0712 } });
  });

  test("leaves unknown ids out and answers {} when every id is unknown", async () => {
    const f = await start();
    expect(await (await price(f, `ids=beldex,nope&vs_currencies=usd&${QUERY}`)).json()).toContainAllKeys([
      "beldex",
    ]);
    expect(await (await price(f, `ids=nope,nada&vs_currencies=usd&${QUERY}`)).json()).toEqual({});
  });

  test("answers an empty entry for a known id in an unknown currency", async () => {
    const f = await start();
    expect(await (await price(f, `ids=beldex&vs_currencies=xyz&${QUERY}`)).json()).toEqual({ beldex: {} });
  });

  test("rounds the price to the requested precision", async () => {
    const f = await start();
    f.setPrice("beldex", "usd", { price: 0.071234567 });
    const rounded = await (await price(f, "ids=beldex&vs_currencies=usd&precision=3")).json();
    const full = await (await price(f, "ids=beldex&vs_currencies=usd&precision=full")).json();
    expect(rounded.beldex.usd).toBe(0.071);
    expect(full.beldex.usd).toBe(0.071234567);
  });

  test("answers 400 without vs_currencies", async () => {
    const f = await start();
    const response = await price(f, "ids=beldex");
    expect(response.status).toBe(400);
  });

  test("setPrice changes a pair, keeps omitted metrics and sets last_updated_at", async () => {
    const f = await start();
    f.setPrice("beldex", "usd", { price: 0.08, updatedAt: 1_764_180_000 });
    expect(f.getPrice("beldex", "usd")).toEqual({
      price: 0.08,
      marketCap: 5.02e8,
      volume24h: 2.1e6,
      change24hPct: -1.3,
      updatedAt: 1_764_180_000,
    });
    f.setPrice("newcoin", "usd", { price: 2 });
    expect(f.knownIds).toContain("newcoin");
    expect(f.getPrice("newcoin", "usd")).toMatchObject({ price: 2, marketCap: null });
    f.removeAsset("newcoin");
    expect(f.knownIds).not.toContain("newcoin");
  });

  test("advance moves prices a little and always bumps last_updated_at", async () => {
    const f = await start({ random: () => 1 });
    const before = f.getPrice("beldex", "usd");
    f.advance();
    const after = f.getPrice("beldex", "usd");
    expect(after?.price).toBeCloseTo((before?.price ?? 0) * 1.005, 10);
    expect(after?.updatedAt).toBe((before?.updatedAt ?? 0) + 1);
  });

  test("auto per request moves prices before each answer", async () => {
    const f = await start({ auto: "request", random: () => 0 });
    const first = await (await price(f, `ids=beldex&vs_currencies=usd&${QUERY}`)).json();
    const second = await (await price(f, `ids=beldex&vs_currencies=usd&${QUERY}`)).json();
    expect(second.beldex.usd).toBeLessThan(first.beldex.usd);
    expect(second.beldex.last_updated_at).toBeGreaterThan(first.beldex.last_updated_at);
  });

  test("auto on an interval moves prices by itself", async () => {
    const f = await start({ auto: { intervalMs: 10 }, random: () => 1 });
    const before = f.getPrice("bitcoin", "usd")?.price ?? 0;
    await Bun.sleep(50);
    expect(f.getPrice("bitcoin", "usd")?.price ?? 0).toBeGreaterThan(before);
  });

  test("records each request with its URL and headers", async () => {
    const f = await start();
    await price(f, "ids=beldex&vs_currencies=usd", { headers: { "x-cg-demo-api-key": "k-123" } });
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]?.path).toBe("/api/v3/simple/price");
    expect(f.requests[0]?.query).toMatchObject({ ids: "beldex", vs_currencies: "usd" });
    expect(f.requests[0]?.headers["x-cg-demo-api-key"]).toBe("k-123");
    f.reset();
    expect(f.requests).toHaveLength(0);
  });

  test("answers 404 on other paths", async () => {
    const f = await start();
    expect((await fetch(`${f.url}/coins/list`)).status).toBe(404);
  });
});

describe("fake CoinGecko keys", () => {
  test("accepts the required key in the plan's header or query parameter", async () => {
    const f = await start({ requireKey: { plan: "demo", key: "demo-key-1" } });
    expect((await fetch(`${f.url}/ping`, { headers: { "x-cg-demo-api-key": "demo-key-1" } })).status).toBe(
      200,
    );
    expect((await fetch(`${f.url}/ping?x_cg_demo_api_key=demo-key-1`)).status).toBe(200);
  });

  test("answers CoinGecko's 401 error JSON for a missing or wrong key", async () => {
    const f = await start({ requireKey: { plan: "pro", key: "pro-key-1" } });
    const missing = await fetch(`${f.url}/simple/price?ids=beldex&vs_currencies=usd`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ status: { error_code: 10002, error_message: "API Key Missing" } });
    const wrong = await fetch(`${f.url}/ping`, { headers: { "x-cg-pro-api-key": "nope" } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).status.error_code).toBe(10002);
  });

  test("tells a key sent in the other plan's header to change root URL", async () => {
    const f = await start({ requireKey: { plan: "pro", key: "pro-key-1" } });
    const response = await fetch(`${f.url}/ping`, { headers: { "x-cg-demo-api-key": "pro-key-1" } });
    expect(response.status).toBe(401);
    expect((await response.json()).status.error_code).toBe(10011);
  });
});

describe("fake CoinGecko faults", () => {
  const ok = `ids=beldex&vs_currencies=usd&${QUERY}`;

  test("a queued fault answers once, then the fake is healthy again", async () => {
    const f = await start();
    f.fault("503");
    expect((await price(f, ok)).status).toBe(503);
    expect((await price(f, ok)).status).toBe(200);
  });

  test("faults run in order and `times` repeats one", async () => {
    const f = await start();
    f.fault("500", { times: 2 });
    f.fault("502");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await price(f, ok)).status);
    expect(statuses).toEqual([500, 500, 502, 200]);
  });

  test("a sticky fault stays until cleared", async () => {
    const f = await start();
    f.fault("empty", { sticky: true });
    for (let i = 0; i < 3; i++) expect(await (await price(f, ok)).json()).toEqual({});
    f.clearFaults();
    expect(await (await price(f, ok)).json()).toContainKey("beldex");
  });

  test("faults do not touch ping", async () => {
    const f = await start();
    f.fault("500");
    expect((await fetch(`${f.url}/ping`)).status).toBe(200);
    expect((await price(f, ok)).status).toBe(500);
  });

  test("429 sends Retry-After in seconds, 1 by default", async () => {
    const f = await start();
    f.fault("429");
    f.fault("429", { retryAfterSeconds: 7 });
    const first = await price(f, ok);
    const second = await price(f, ok);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(second.headers.get("retry-after")).toBe("7");
    expect((await second.json()).status.error_code).toBe(429);
  });

  test("429 can send Retry-After as an HTTP-date", async () => {
    const f = await start();
    f.fault("429", { retryAfterSeconds: 30, retryAfterAsDate: true });
    const response = await price(f, ok);
    expect(response.headers.get("retry-after")).toBe("Thu, 26 Nov 2026 18:00:30 GMT");
  });

  test("429-no-retry-after sends no Retry-After", async () => {
    const f = await start();
    f.fault("429-no-retry-after");
    const response = await price(f, ok);
    expect(response.status).toBe(429);
    expect(response.headers.has("retry-after")).toBe(false);
  });

  test("html answers 200 with a CDN page", async () => {
    const f = await start();
    f.fault("html");
    const response = await price(f, ok);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toStartWith("<!DOCTYPE html>");
  });

  test("502 answers an HTML gateway page", async () => {
    const f = await start();
    f.fault("502");
    const response = await price(f, ok);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain("502 Bad Gateway");
  });

  test("malformed answers 200 with truncated JSON", async () => {
    const f = await start();
    f.fault("malformed");
    const text = await (await price(f, ok)).text();
    expect(text.startsWith("{")).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  test("null-fields answers null prices and market caps", async () => {
    const f = await start();
    f.fault("null-fields");
    const body = await (await price(f, ok)).json();
    expect(body.beldex.usd).toBeNull();
    expect(body.beldex.usd_market_cap).toBeNull();
    expect(body.beldex.last_updated_at).toBe(NOW / 1000);
  });

  test("timeout holds the request until the client gives up", async () => {
    const f = await start();
    f.fault("timeout");
    const started = performance.now();
    const failing = price(f, ok, { signal: AbortSignal.timeout(100) });
    await expect(failing).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect((await price(f, ok)).status).toBe(200);
  });

  test("stop does not hang on a held timeout request", async () => {
    const f = await start();
    f.fault("timeout");
    const pending = price(f, ok).then(
      (response) => response.status,
      () => "closed",
    );
    await Bun.sleep(30);
    const started = performance.now();
    await f.stop();
    fake = undefined;
    expect(performance.now() - started).toBeLessThan(1000);
    expect([504, "closed"]).toContain(await pending);
  });
});

describe("fake CoinGecko command line", () => {
  test("prints its URL and serves until stopped", async () => {
    const child = Bun.spawn(
      [process.execPath, "run", "tests/support/fake-coingecko.ts", "--port", "0", "--auto"],
      { cwd: `${import.meta.dir}/..`, stdout: "pipe", stderr: "pipe" },
    );
    try {
      const reader = child.stdout.getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      const url = text.trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
      expect(await (await fetch(`${url}/ping`)).json()).toEqual({ gecko_says: "(V3) To the Moon!" });
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
  });
});
