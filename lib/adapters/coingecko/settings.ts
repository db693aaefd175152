/** Which CoinGecko API to call, and with which key. */
export interface CoinGeckoSettings {
  plan: "public" | "demo" | "pro";
  apiKey: string | null;
  baseUrl: string | null;
  timeoutMs: number;
}
