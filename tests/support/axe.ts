import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults } from "axe-core";
import type { Page } from "playwright-core";

// axe-core's browser bundle, read once: it is evaluated in the page rather than added as a <script>, which the
// page's CSP (no inline script) would refuse.
let source: string | undefined;
const axeSource = () => {
  source ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return source;
};

/** One axe-core violation, reduced to what a failing test should print. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** CSS selectors of the offending elements, with axe's explanation of the first. */
  targets: string[];
  summary: string;
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules, plus its best practices) on the page as it is and returns the
 * violations; an empty list is a pass.
 * @example expect(await runAxe(page)).toEqual([]);
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource());
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (options: object) => Promise<AxeResults> } }).axe;
    const results = await axe.run({ resultTypes: ["violations"] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(" ")),
      summary: violation.nodes[0]?.failureSummary ?? "",
    }));
  });
}
