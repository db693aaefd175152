// The CoinGecko stream adapter against the fake stream: the documented exchange, odd payloads, drops and the key.
import { afterEach, describe, expect, test } from "bun:test";
import { coingeckoStreamChecks } from "../lib/adapters/coingecko/stream-doctor.ts";
import {
  parseStreamMessage,
  setTokensCommand,
  updateToTick,
} from "../lib/adapters/coingecko/stream-protocol.ts";
import { createCoinGeckoStream } from "../lib/adapters/coingecko/stream-source.ts";
import { createLogger } from "../lib/log.ts";
import type { FetchResult } from "../lib/ports.ts";
import { type FakeCoinGeckoStream, startFakeCoinGeckoStream } from "./support/fake-coingecko-stream.ts";
import { waitFor } from "./support/processes.ts";

const KEY = "CG-stream-secret-key-42";
const fetchedAt = "2026-11-26T18:00:00.000Z";
const context = { assets: ["bitcoin", "ethereum"], currencies: ["usd", "eur"], fetchedAt };

let fake: FakeCoinGeckoStream | undefined;
let stop: AbortController | undefined;
let running: Promise<void> | undefined;

afterEach(async () => {
  stop?.abort();
  await running;
  await fake?.stop();
  fake = undefined;
});

/** Runs the adapter against the fake; returns what it delivered and its log lines. */
function run(options: { keyIn?: "header" | "query"; assets?: string[]; currencies?: string[] } = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", secrets: [KEY], sink: (line) => lines.push(line) });
  const stream = createCoinGeckoStream({
    url: fake?.url ?? "",
    apiKey: KEY,
    assets: options.assets ?? ["bitcoin", "ethereum", "beldex"],
    currencies: options.currencies ?? ["usd", "eur"],
    log,
    keyIn: options.keyIn,
    backoff: { baseMs: 50, capMs: 200 },
  });
  const readings: FetchResult[] = [];
  const states: boolean[] = [];
  stop = new AbortController();
  running = stream.run({ readings: (r) => readings.push(r), live: (up) => states.push(up) }, stop.signal);
  return { readings, states, lines };
}

describe("stream protocol", () => {
  test("reads updates with keys in any order, null fields, fractional and string values", () => {
    const shuffled = parseStreamMessage(
      '{"t":1747808150.269067,"v":null,"p":"2591.08","i":"ethereum","m":null,"c":"C1","pp":1.37,"vs":"eur"}',
    );
    expect(shuffled.kind).toBe("update");
    if (shuffled.kind !== "update") return;
    expect(updateToTick(shuffled.update, context)).toEqual({
      asset: "ethereum",
      currency: "eur",
      outcome: {
        v: 1,
        asset: "ethereum",
        currency: "eur",
        price: 2591.08,
        marketCap: null,
        volume24h: null,
        change24hPct: 1.37,
        sourceUpdatedAt: "2025-05-21T06:15:50.269Z",
        fetchedAt,
        source: "coingecko-stream",
      },
    });
    const nullPrice = { c: "C1", i: "bitcoin", vs: "usd", p: null, t: 1764180000 };
    expect(updateToTick(nullPrice, context)?.outcome).toBe("price missing");
    expect(updateToTick({ ...nullPrice, p: 1, t: null }, context)?.outcome).toBe("last_updated_at missing");
    expect(updateToTick({ ...nullPrice, p: -1 }, context)?.outcome).toBe("price not positive");
    // Not configured: ignored; no `vs`: usd, the channel's default.
    expect(updateToTick({ ...nullPrice, i: "dogecoin", p: 1 }, context)).toBeNull();
    expect(updateToTick({ i: "bitcoin", p: 1, t: 1764180000 }, context)?.currency).toBe("usd");
  });

  test("understands the connection messages and writes the documented commands", () => {
    expect(parseStreamMessage('{"code":3000,"message":"Connection established","uuid":"x"}').kind).toBe(
      "connected",
    );
    expect(parseStreamMessage('{"type":"welcome","sid":"x"}').kind).toBe("connected");
    expect(
      parseStreamMessage('{"type":"confirm_subscription","identifier":"{\\"channel\\":\\"CGSimplePrice\\"}"}')
        .kind,
    ).toBe("confirmed");
    expect(parseStreamMessage('{"code":2000,"message":"Subscribed to bitcoin in usd"}')).toEqual({
      kind: "answer",
      code: 2000,
      message: "Subscribed to bitcoin in usd",
    });
    expect(parseStreamMessage("not json").kind).toBe("other");
    expect(setTokensCommand(["bitcoin"], ["usd"])).toBe(
      '{"command":"message","identifier":"{\\"channel\\":\\"CGSimplePrice\\"}","data":"{\\"coin_id\\":[\\"bitcoin\\"],\\"vs_currencies\\":[\\"usd\\"],\\"action\\":\\"set_tokens\\"}"}',
    );
  });
});

describe("stream adapter", () => {
  test("subscribes every coin in every currency with the key in a header, and reads shuffled, null-field updates", async () => {
    fake = await startFakeCoinGeckoStream({
      requireKey: KEY,
      faults: { shuffledKeys: true, nullFields: true },
    });
    const { readings, states } = run();
    await waitFor("a live subscriber", () => fake?.subscribers().length === 1, 5_000);
    await waitFor("live", () => states.includes(true), 5_000);
    const [connection] = fake.connections;
    expect(connection).toMatchObject({
      keyVia: "header",
      coins: ["bitcoin", "ethereum", "beldex"],
      currencies: ["usd", "eur"],
    });
    expect(connection?.commands.map((c) => c.command)).toEqual(["subscribe", "message"]);
    fake.emit({ coin: "bitcoin", vs: "eur", price: 78_840.55, t: 1764180000.5 });
    fake.emit({ coin: "beldex", vs: "usd", price: null });
    await waitFor("two readings", () => readings.length === 2, 5_000);
    expect(readings[0]?.ticks[0]).toMatchObject({
      asset: "bitcoin",
      currency: "eur",
      price: 78_840.55,
      marketCap: null,
      sourceUpdatedAt: "2025-11-26T18:00:00.500Z",
      source: "coingecko-stream",
    });
    expect(readings[1]).toEqual({
      ticks: [],
      skipped: [{ asset: "beldex", currency: "usd", reason: "price missing" }],
    });
  });

  test("reconnects after a drop and after refused connections, and subscribes again each time", async () => {
    fake = await startFakeCoinGeckoStream({ requireKey: KEY });
    const { readings, states, lines } = run();
    await waitFor("first subscription", () => fake?.subscribers().length === 1, 5_000);
    fake.faults.refuse = true;
    fake.disconnect();
    await waitFor("down", () => states.at(-1) === false, 5_000);
    await waitFor("refused attempts", () => (fake?.refused ?? 0) >= 2, 5_000);
    fake.faults.refuse = false;
    await waitFor("subscribed again", () => fake?.subscribers().length === 1, 5_000);
    expect(fake.connections.filter((c) => c.commands.some((cmd) => cmd.command === "message"))).toHaveLength(
      2,
    );
    expect(states).toEqual([true, false, true]);
    fake.emit({ coin: "ethereum", vs: "usd", price: 3_000 });
    await waitFor("a reading after the reconnect", () => readings.length === 1, 5_000);
    const all = lines.join("\n");
    expect(all).toContain("coingecko stream down, reconnecting");
    expect(all).not.toContain(KEY);
  });

  test("the key as a query parameter never shows in logs, however the connection fails", async () => {
    fake = await startFakeCoinGeckoStream({ requireKey: "another-key-entirely" });
    const { lines } = run({ keyIn: "query" });
    await waitFor("refused twice", () => (fake?.refused ?? 0) >= 2, 5_000);
    expect(fake.connections).toHaveLength(0);
    const all = lines.join("\n");
    expect(all).toContain("coingecko stream down, reconnecting");
    expect(all).not.toContain(KEY);
    expect(all).not.toContain("x_cg_pro_api_key");
  });

  test("partial subscription: the coins the stream took are streamed, and the stream stops cleanly with unsubscribe", async () => {
    fake = await startFakeCoinGeckoStream({ faults: { partialCoins: 1 } });
    const { readings } = run({ assets: ["bitcoin", "ethereum"], currencies: ["usd"] });
    await waitFor("subscribed", () => fake?.subscribers().length === 1, 5_000);
    expect(fake.emit({ coin: "ethereum", price: 3_000 }).sentTo).toBe(0);
    expect(fake.emit({ coin: "bitcoin", price: 91_000 }).sentTo).toBe(1);
    await waitFor("one reading", () => readings.length === 1, 5_000);
    stop?.abort();
    await running;
    await waitFor("closed", () => fake?.connections[0]?.open === false, 5_000);
    expect(fake.connections[0]?.commands.map((c) => c.command)).toEqual([
      "subscribe",
      "message",
      "unsubscribe",
    ]);
  });
});

describe("stream doctor check", () => {
  const settings = (url: string, apiKey = KEY) => ({
    url,
    apiKey,
    assets: ["bitcoin"],
    currencies: ["usd", "eur"],
  });

  test("ok once CoinGecko acknowledges the coins", async () => {
    fake = await startFakeCoinGeckoStream({ requireKey: KEY });
    const [check] = coingeckoStreamChecks(settings(fake.url)).checks;
    const outcome = await check?.run(new AbortController().signal);
    expect(outcome).toEqual({
      status: "ok",
      message: "subscribed to CGSimplePrice: 1 coin(s) in 2 currencies acknowledged",
    });
  });

  test("fail with the first reason, without the key, when the key is refused", async () => {
    fake = await startFakeCoinGeckoStream({ requireKey: "the-right-key-0000" });
    const [check] = coingeckoStreamChecks(settings(fake.url)).checks;
    const outcome = await check?.run(new AbortController().signal);
    expect(outcome?.status).toBe("fail");
    expect(outcome?.message).toStartWith(`no subscription on ${fake.url}: `);
    expect(JSON.stringify(outcome)).not.toContain(KEY);
  });
});
