/** CoinGecko's WebSocket root (paid plans): the CGSimplePrice channel lives here. */
export const COINGECKO_STREAM_URL = "wss://stream.coingecko.com/v1";

/** How the producer reaches CoinGecko's price stream; null in the settings when COINGECKO_STREAM is off. */
export interface CoinGeckoStreamSettings {
  /** WebSocket URL; default {@link COINGECKO_STREAM_URL} (COINGECKO_STREAM_URL points tests at the fake). */
  url: string;
}
