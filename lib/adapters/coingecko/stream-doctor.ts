/**
 * The stream's check: connect, subscribe and set_tokens through the very adapter the producer runs, once; ok when
 * CoinGecko acknowledges the coins, fail with the first reason the connection went down (a refused key, say).
 */
import { type CheckGroup, fail, ok } from "../../checks/check.ts";
import { createLogger } from "../../log.ts";
import { createCoinGeckoStream, withoutQuery } from "./stream-source.ts";

/** What the stream check reads from the config. */
export interface StreamCheckSettings {
  url: string;
  apiKey: string;
  assets: string[];
  currencies: string[];
}

/** Longest wait for the subscription: the adapter's handshake deadline (10 s) and a little. */
const CHECK_TIMEOUT_MS = 12_000;

/**
 * The coingecko-stream check group (only when COINGECKO_STREAM is on).
 * @example const group = coingeckoStreamChecks({ url: config.stream.url, apiKey, assets, currencies });
 */
export function coingeckoStreamChecks(settings: StreamCheckSettings): CheckGroup {
  const shown = withoutQuery(settings.url);
  return {
    subject: "coingecko-stream",
    checks: [
      {
        id: "coingecko-stream.subscribe",
        title: `subscribe on ${shown}`,
        timeoutMs: CHECK_TIMEOUT_MS,
        timeoutFix: "check the network and COINGECKO_STREAM_URL; the stream needs a paid plan's key",
        async run(signal) {
          const stop = new AbortController();
          const onAbort = () => stop.abort();
          signal.addEventListener("abort", onAbort, { once: true });
          let down: string | undefined;
          // The adapter says why a connection ended in its warn line; the first one is the answer here.
          const log = createLogger({
            level: "warn",
            secrets: [settings.apiKey],
            sink: (line) => {
              const record = JSON.parse(line) as { msg?: string; reason?: string };
              if (record.msg === "coingecko stream down, reconnecting" && down === undefined) {
                down = record.reason ?? "the connection went down";
                stop.abort();
              }
            },
          });
          let live = false;
          const stream = createCoinGeckoStream({ ...settings, log });
          await stream.run(
            {
              readings: () => {},
              live: (up) => {
                if (!up) return;
                live = true;
                stop.abort();
              },
            },
            stop.signal,
          );
          signal.removeEventListener("abort", onAbort);
          if (live)
            return ok(
              `subscribed to CGSimplePrice: ${settings.assets.length} coin(s) in ${settings.currencies.length} currenc${settings.currencies.length === 1 ? "y" : "ies"} acknowledged`,
            );
          return fail(
            `no subscription on ${shown}: ${down ?? "stopped"}`,
            "the stream needs a paid plan (COINGECKO_PLAN=pro) and its key in COINGECKO_API_KEY; check COINGECKO_STREAM_URL",
          );
        },
      },
    ],
  };
}
