/** How the doctor prints: one line per check, a summary, and the exit code. */

import type { CheckResult, CheckStatus } from "../checks/check.ts";
import { redactText } from "../log.ts";

const LABELS: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

/**
 * One line per result: `ok   kafka: reachable (...)` or `FAIL kafka: ... — fix: ...`. Every configured secret is
 * masked, as a last line of defence: no check should ever put one in a message.
 * @example formatResult({ status: "fail", subject: "redis", message: "password rejected", fix: "check REDIS_URL", ... }, [])
 * // "FAIL redis: password rejected — fix: check REDIS_URL"
 */
export function formatResult(result: CheckResult, secrets: readonly string[]): string {
  const fix = result.fix && result.status !== "ok" && result.status !== "skip" ? ` — fix: ${result.fix}` : "";
  const line = `${LABELS[result.status]} ${result.subject}: ${result.message}${fix}`;
  return redactText(line.replace(/\s*\n\s*/g, " "), secrets);
}

/** Counts per status. */
function countResults(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}

/**
 * The closing line, e.g. "doctor: 14 ok, 1 warning, 0 failed, 2 skipped — all checks passed".
 */
export function formatSummary(results: readonly CheckResult[]): string {
  const c = countResults(results);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const verdict =
    c.fail > 0
      ? `${plural(c.fail, "problem")} to fix (see FAIL lines)`
      : c.warn > 0
        ? "passed, with warnings worth reading"
        : "all checks passed";
  return `doctor: ${c.ok} ok, ${plural(c.warn, "warning")}, ${c.fail} failed, ${c.skip} skipped — ${verdict}`;
}

/** 0 when nothing failed (warnings and skips do not fail the run), 1 otherwise. */
export function exitCodeFor(results: readonly CheckResult[]): 0 | 1 {
  return results.some((result) => result.status === "fail") ? 1 : 0;
}
