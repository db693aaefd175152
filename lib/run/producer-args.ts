import { parseDuration } from "../duration.ts";

/**
 * Reads `--backfill <duration>` (or `--backfill=<duration>`) from the producer's arguments: null when absent,
 * the duration in ms, or the one line that says what is wrong with it.
 * @example backfillArgument(["--backfill", "30d"]) // { durationMs: 2_592_000_000 }
 */
export function backfillArgument(
  argv: readonly string[],
): { durationMs: number } | { problem: string } | null {
  const index = argv.findIndex((arg) => arg === "--backfill" || arg.startsWith("--backfill="));
  if (index < 0) return null;
  const arg = argv[index] ?? "";
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[index + 1];
  const durationMs = value === undefined ? undefined : parseDuration(value);
  if (durationMs === undefined)
    return {
      problem: `--backfill: expected a duration such as 2h or 30d (up to 3650d)${value === undefined ? "" : ` (got "${value.slice(0, 40)}")`}`,
    };
  return { durationMs };
}
