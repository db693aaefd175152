import { describeError, excerpt } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { redactText } from "../../log.ts";
import type { FetchResult, PriceStream, PriceStreamSink } from "../../ports.ts";
import { backoffDelay, sleep } from "../../retry.ts";
import {
  CODE_SUBSCRIBED,
  parseStreamMessage,
  STREAM_KEY_HEADER,
  STREAM_KEY_PARAM,
  setTokensCommand,
  subscribeCommand,
  unsubscribeCommand,
  updateToTick,
} from "./stream-protocol.ts";

/** Reconnect backoff: full jitter below 1 s, doubling to at most 30 s (REST polling covers the gap meanwhile). */
const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 30_000 };
/** Longest wait from opening the socket to the answer of set_tokens: 10 s. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Longest silence of a live socket before it is taken for dead and reopened: 5 minutes. A half-open TCP
 * connection never closes by itself; active coins update every ~10 s, and REST polls cover quiet pairs anyway.
 */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** What {@link createCoinGeckoStream} needs; `url`, `apiKey`, `assets`, `currencies` and `log` are required. */
export interface CoinGeckoStreamOptions {
  /** The stream's URL, e.g. wss://stream.coingecko.com/v1 (COINGECKO_STREAM_URL). */
  url: string;
  /** The paid key; sent in the x-cg-pro-api-key header (or query parameter), never logged. */
  apiKey: string;
  assets: readonly string[];
  currencies: readonly string[];
  log: Logger;
  /** Where the key goes: "header" (default: it stays out of every URL) or "query" (x_cg_pro_api_key). */
  keyIn?: "header" | "query";
  /** Reconnect backoff. Default base 1000 ms, cap 30000 ms, full jitter. */
  backoff?: { baseMs?: number; capMs?: number; random?: () => number };
  /** From opening the socket to set_tokens answered. Default 10000 ms. */
  handshakeTimeoutMs?: number;
  /** Silence after which a socket is reopened. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** Clock for fetchedAt. Default () => new Date(). */
  now?: () => Date;
}

/** Bun's WebSocket constructor, whose options the DOM typing of the global (in this tsconfig) hides. */
const BunWebSocket = WebSocket as unknown as new (url: string, init: Bun.WebSocketOptions) => WebSocket;

/** How one connection ended. */
interface Outcome {
  wasLive: boolean;
  reason: string;
}

/**
 * A {@link PriceStream} over CoinGecko's CGSimplePrice channel with Bun's WebSocket client: connect (key in a
 * header), wait for the connection message, subscribe, set_tokens for every configured coin and currency, then
 * turn each update into a tick (`source: "coingecko-stream"`) or a skipped pair. Any drop, refusal or silence
 * reconnects with full-jitter backoff and subscribes again. The key never appears in logs or reasons, nor does
 * any URL's query string.
 * @example
 * const stream = createCoinGeckoStream({ url, apiKey, assets: ["bitcoin"], currencies: ["usd"], log });
 * await stream.run({ readings: (r) => ..., live: (up) => ... }, signal);
 */
export function createCoinGeckoStream(options: CoinGeckoStreamOptions): PriceStream {
  const { apiKey, assets, currencies, log } = options;
  const keyIn = options.keyIn ?? "header";
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const shownUrl = withoutQuery(options.url);
  const clean = (text: string) => redactText(text, [apiKey]).replace(/(wss?:\/\/[^\s?"]+)\?[^\s"]*/gi, "$1");

  const target = () => {
    if (keyIn === "header") return options.url;
    const url = new URL(options.url);
    url.searchParams.set(STREAM_KEY_PARAM, apiKey);
    return url.href;
  };

  const connectOnce = (sink: PriceStreamSink, signal: AbortSignal): Promise<Outcome> =>
    new Promise((resolve) => {
      let live = false;
      let subscribed = false;
      let asked = false;
      let settled = false;
      let socket: WebSocket;
      try {
        // Bun's client sends headers on the upgrade request; browsers' could not.
        const init: Bun.WebSocketOptions =
          keyIn === "header" ? { headers: { [STREAM_KEY_HEADER]: apiKey } } : {};
        socket = new BunWebSocket(target(), init);
      } catch (error) {
        resolve({ wasLive: false, reason: clean(describeError(error)) });
        return;
      }
      const handshake = setTimeout(
        () => finish(`not subscribed within ${handshakeTimeoutMs / 1000} s`),
        handshakeTimeoutMs,
      );
      let idle: ReturnType<typeof setTimeout> | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(`no message for ${idleTimeoutMs / 1000} s`), idleTimeoutMs);
      };
      const onAbort = () => finish("stopped");
      signal.addEventListener("abort", onAbort, { once: true });

      function finish(reason: string) {
        if (settled) return;
        settled = true;
        clearTimeout(handshake);
        clearTimeout(idle);
        signal.removeEventListener("abort", onAbort);
        try {
          if (socket.readyState === WebSocket.OPEN) {
            // A clean stop says goodbye to the channel; a drop has nobody to say it to.
            if (subscribed && signal.aborted) socket.send(unsubscribeCommand());
            socket.close(1000, signal.aborted ? "stopping" : "reconnecting");
          } else if (socket.readyState === WebSocket.CONNECTING) socket.close();
        } catch {
          // Closing a socket the peer is closing too: it ends either way.
        }
        const shown = clean(reason);
        if (live) sink.live(false, shown);
        resolve({ wasLive: live, reason: shown });
      }

      const deliver = (update: Record<string, unknown>) => {
        const reading = updateToTick(update, { assets, currencies, fetchedAt: now().toISOString() });
        if (!reading) {
          log.debug("coingecko stream: update of a pair not configured", { coin: excerpt(update.i, 60) });
          return;
        }
        const result: FetchResult =
          typeof reading.outcome === "string"
            ? {
                ticks: [],
                skipped: [{ asset: reading.asset, currency: reading.currency, reason: reading.outcome }],
              }
            : { ticks: [reading.outcome], skipped: [] };
        sink.readings(result);
      };

      socket.addEventListener("message", (event) => {
        if (settled) return;
        armIdle();
        const text =
          typeof event.data === "string" ? event.data : Buffer.from(event.data as ArrayBuffer).toString();
        const message = parseStreamMessage(text);
        switch (message.kind) {
          case "connected":
            // The code 3000 message and the welcome both say so; subscribe once.
            if (!asked) socket.send(subscribeCommand());
            asked = true;
            return;
          case "confirmed":
            subscribed = true;
            socket.send(setTokensCommand(assets, currencies));
            return;
          case "answer":
            if (message.code === CODE_SUBSCRIBED && subscribed) {
              if (live) return;
              live = true;
              clearTimeout(handshake);
              log.info("coingecko stream live", {
                url: shownUrl,
                coins: assets.length,
                currencies: currencies.length,
              });
              sink.live(true);
            } else
              log.warn("coingecko stream answered", {
                code: message.code,
                message: clean(excerpt(message.message)),
              });
            return;
          case "update":
            deliver(message.update);
            return;
          case "other":
            return;
        }
      });
      socket.addEventListener("close", (event) =>
        finish(`socket closed (code ${event.code}${event.reason ? `, ${excerpt(event.reason, 120)}` : ""})`),
      );
      socket.addEventListener("error", (event) => {
        const said = (event as ErrorEvent).message;
        finish(said ? `socket error: ${excerpt(said, 200)}` : "socket error");
      });
    });

  return {
    async run(sink, signal) {
      let attempt = 0;
      while (!signal.aborted) {
        const outcome = await connectOnce(sink, signal);
        if (signal.aborted) break;
        attempt = outcome.wasLive ? 1 : attempt + 1;
        const delayMs = backoffDelay(attempt, backoff);
        log.warn("coingecko stream down, reconnecting", {
          url: shownUrl,
          reason: outcome.reason,
          attempt,
          delayMs,
        });
        await sleep(delayMs, signal).catch(() => {});
      }
    },
  };
}

/** A URL without its query string or credentials, for logs: the key may ride in the query. */
export function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(unreadable URL)";
  }
}
