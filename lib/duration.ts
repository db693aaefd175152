/** Units a duration may end in: minutes, hours, days, weeks. */
const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Longest duration accepted: 3650 days, more history than CoinGecko serves any plan. */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/**
 * Milliseconds of a duration such as "90m", "2h", "30d" or "1w", or undefined when `text` is not one (or is
 * zero, or longer than {@link MAX_DURATION_MS}).
 * @example parseDuration("30d") // 2_592_000_000
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d{1,6})\s*([mhdw])\s*$/i.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNITS[(match[2] ?? "").toLowerCase()] ?? 0);
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * A short human duration, largest units first, at most two of them: "1h 20m", "45s", "3d 4h".
 * @example formatDuration(4_800_000) // "1h 20m"
 */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), "d"],
    [Math.floor((seconds % 86_400) / 3600), "h"],
    [Math.floor((seconds % 3600) / 60), "m"],
    [seconds % 60, "s"],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first < 0) return "0s";
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(" ");
}
