/**
 * Which CoinGecko API to call, and with which key: the keyed plans always carry their key; the public plan
 * never sends one (a key given anyway is only warned about).
 */
export type CoinGeckoSettings = { baseUrl: string | null; timeoutMs: number } & (
  | { plan: "public"; apiKey: string | null }
  | { plan: "demo" | "pro"; apiKey: string }
);
