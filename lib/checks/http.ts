/** The small HTTP helper the REST checks (Upstash, Supabase, CoinGecko) share. */

/** fetch, injectable so that unit tests can answer for the server. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** A whole HTTP answer: status, raw text, and the JSON body when the text is JSON (else undefined). */
export interface HttpAnswer {
  status: number;
  text: string;
  body: unknown;
}

/**
 * Sends one request and reads the whole answer; throws only when no answer came (network error, abort).
 * @example const answer = await request(fetch, "https://x.upstash.io", { method: "POST", body: '["PING"]' });
 */
export async function request(fetchImpl: Fetch, url: string, init: RequestInit): Promise<HttpAnswer> {
  const response = await fetchImpl(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}
