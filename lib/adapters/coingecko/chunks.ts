/**
 * How many ids one /simple/price request carries: CoinGecko bounds the ids of a request (its token-price
 * variant documents at most 515 addresses per call) and URLs have length limits along the way (CDNs, proxies),
 * so a long ASSETS list goes out in several requests.
 */

/** Most ids in one /simple/price request: 250, half of the documented 515 of the token-price variant. */
export const MAX_IDS_PER_REQUEST = 250;
/** Longest /simple/price URL we send: 2048 characters, what every proxy and CDN on the way accepts. */
export const MAX_URL_LENGTH = 2048;

/**
 * Splits `ids`, in order, into chunks of at most `maxIds` whose URL stays within `maxUrlLength`: `urlOf` builds
 * the URL of a chunk. An id whose URL alone is too long still goes, alone (it cannot be split).
 * Defaults: {@link MAX_IDS_PER_REQUEST}, {@link MAX_URL_LENGTH}.
 * @example chunkIds(ids, (chunk) => simplePriceUrl(base, chunk, currencies)) // [["beldex", ...], [...]]
 */
export function chunkIds(
  ids: readonly string[],
  urlOf: (chunk: readonly string[]) => string,
  maxIds = MAX_IDS_PER_REQUEST,
  maxUrlLength = MAX_URL_LENGTH,
): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  // The URL grows by each id and its comma, so its length is the empty chunk's plus what was added.
  const base = urlOf([]).length;
  let length = base;
  for (const id of ids) {
    const added = encodeURIComponent(id).length + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxIds || length + added > maxUrlLength)) {
      chunks.push(current);
      current = [];
      length = base;
    }
    length += encodeURIComponent(id).length + (current.length > 0 ? 1 : 0);
    current.push(id);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
