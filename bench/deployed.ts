/**
 * The engine settings a deployed process runs with: the `BUN_JSC_*` variables of fly.toml's `[env]`, read from
 * the file itself so that a benchmark of "as deployed" never drifts from what Fly starts.
 */
import { join } from "node:path";

/** Reads fly.toml's `[env]` and keeps the JavaScriptCore settings (`BUN_JSC_*`); empty when it sets none. */
export async function deployedEngineEnv(
  flyToml = join(import.meta.dir, "..", "fly.toml"),
): Promise<Record<string, string>> {
  const config = Bun.TOML.parse(await Bun.file(flyToml).text()) as { env?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(config.env ?? {})
      .filter(([name]) => name.startsWith("BUN_JSC_"))
      .map(([name, value]) => [name, String(value)]),
  );
}

/** `BUN_JSC_forceRAMSize=67108864 BUN_JSC_useDFGJIT=0`: the settings as one line for the benchmark's log. */
export function describeEngineEnv(env: Record<string, string>): string {
  const line = Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  return line || "Bun's defaults (fly.toml sets no BUN_JSC_ variable)";
}
