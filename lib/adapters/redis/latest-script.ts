import type { Tick } from "../../tick.ts";
import { tickKey, tickTime } from "../../tick.ts";

/** Prefix of the key that holds a pair's latest tick: `belly:latest:<asset>:<currency>`. */
const LATEST_PREFIX = "belly:latest:";
/** Set of every pair ever cached, as `asset:currency`. */
export const PAIRS_KEY = "belly:pairs";

/**
 * The key holding a pair's latest tick (a hash with fields `ts`, epoch ms, and `tick`, JSON).
 * @example latestKey("beldex", "usd") // "belly:latest:beldex:usd"
 */
export function latestKey(asset: string, currency: string): string {
  return `${LATEST_PREFIX}${asset}:${currency}`;
}

/**
 * Write-if-newer for many pairs in one round trip. KEYS[1] is the pairs set, KEYS[2..] the latest keys;
 * ARGV holds (ts, tick JSON, pair) per key. A tick replaces the cached one only when strictly newer, so
 * replays and reordered messages never move the latest price backwards. Returns how many replaced.
 */
export const PUT_IF_NEWER_SCRIPT = `
local updated = 0
for i = 2, #KEYS do
  local base = (i - 2) * 3
  local ts = tonumber(ARGV[base + 1])
  local current = tonumber(redis.call('HGET', KEYS[i], 'ts') or '-1')
  if ts > current then
    redis.call('HSET', KEYS[i], 'ts', ARGV[base + 1], 'tick', ARGV[base + 2])
    updated = updated + 1
  end
  redis.call('SADD', KEYS[1], ARGV[base + 3])
end
return updated
`;

/** The KEYS and ARGV of {@link PUT_IF_NEWER_SCRIPT} for these ticks (already one per pair). */
export function scriptArguments(ticks: Tick[]): { keys: string[]; args: string[] } {
  const keys = [PAIRS_KEY];
  const args: string[] = [];
  for (const tick of ticks) {
    keys.push(latestKey(tick.asset, tick.currency));
    args.push(String(tickTime(tick)), JSON.stringify(tick), tickKey(tick));
  }
  return { keys, args };
}

/** Parses `asset:currency` members of the pairs set and sorts them by asset, then currency. */
export function sortPairs(members: string[]): { asset: string; currency: string }[] {
  return members
    .map((member) => {
      const cut = member.lastIndexOf(":");
      return { asset: member.slice(0, cut), currency: member.slice(cut + 1) };
    })
    .filter((pair) => pair.asset && pair.currency)
    .sort((a, b) => a.asset.localeCompare(b.asset) || a.currency.localeCompare(b.currency));
}
