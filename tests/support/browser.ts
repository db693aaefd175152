import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium, installed by scripts/setup-browser.sh. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-less headless Chromium in a container without network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Makes sure Chromium is installed, running scripts/setup-browser.sh when it is not; throws an error that says
 * what to run when that fails (e.g. not root, no apt).
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const setup = Bun.spawnSync(["bash", "scripts/setup-browser.sh"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (setup.exitCode === 0 && existsSync(CHROMIUM_PATH)) return;
  throw new Error(
    `Chromium is missing at ${CHROMIUM_PATH} and scripts/setup-browser.sh could not install it ` +
      `(exit ${setup.exitCode}): ${setup.stderr.toString().trim().slice(-500)}. Run it as root: bash scripts/setup-browser.sh`,
  );
}

/**
 * Launches headless Chromium (installing it first if needed).
 * @example const browser = await launchChromium(); … await browser.close();
 */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * Collects everything that would show as an error in the page's console: console.error messages (CSP
 * violations and failed loads included), uncaught exceptions, and failed requests.
 * @example const errors = watchErrors(page); … expect(errors).toEqual([]);
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A stream cut by navigation or page close is not a failure of the page.
    if (request.failure()?.errorText === "net::ERR_ABORTED") return;
    errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`http ${response.status()}: ${response.url()}`);
  });
  return errors;
}
