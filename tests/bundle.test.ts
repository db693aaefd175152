// What ships: the entries compiled into binaries (scripts/build.ts) and the one `bun run dev` runs, bundled as
// Bun bundles them, must not carry anything from tests/ — least of all the CoinGecko fake, which `--demo`
// once served from inside the process.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { BINARIES } from "../scripts/build.ts";
import { FAKE_PING_BODY } from "./support/fake-coingecko.ts";

const ROOT = resolve(import.meta.dir, "..");
const ENTRIES = [...BINARIES.map((binary) => binary.entry), "scripts/dev.ts"];
const FAKE = join(ROOT, "tests/support/fake-coingecko.ts");
/** Strings only the fake has: its exported names and texts it serves. */
const FAKE_MARKERS = [
  "FAKE_FAULT_MODES",
  "startFakeCoinGecko",
  "429-no-retry-after",
  FAKE_PING_BODY.gecko_says,
];

interface Bundled {
  entry: string;
  /** Repository-relative paths of every module in the entry's output. */
  inputs: string[];
  text: string;
}

let bundles: Bundled[];

beforeAll(async () => {
  const result = await Bun.build({
    entrypoints: ENTRIES.map((entry) => join(ROOT, entry)),
    target: "bun",
    metafile: true,
  });
  expect(result.success).toBe(true);
  const meta = result.metafile;
  if (!meta) throw new Error("Bun.build gave no metafile");
  // Metafile paths are relative to the working directory, outputs named after their entry.
  const fromRoot = (path: string) => relative(ROOT, resolve(process.cwd(), path));
  bundles = await Promise.all(
    result.outputs.map(async (output) => {
      const outputMeta = meta.outputs[output.path];
      if (!outputMeta) throw new Error(`no metafile entry for ${output.path}`);
      return {
        entry: fromRoot(outputMeta.entryPoint ?? output.path),
        inputs: Object.keys(outputMeta.inputs).map(fromRoot),
        text: await output.text(),
      };
    }),
  );
});

describe("shipped bundles", () => {
  test("are one per entry: the producer, the consumer and the one-process dev mode", () => {
    expect(bundles.map((b) => b.entry).sort()).toEqual([...ENTRIES].sort());
    for (const bundle of bundles) expect(bundle.inputs).toContain(bundle.entry);
  });

  test("take no module from tests/", () => {
    for (const bundle of bundles) {
      const fromTests = bundle.inputs.filter((input) => input.startsWith(`tests${sep}`));
      expect({ entry: bundle.entry, fromTests }).toEqual({ entry: bundle.entry, fromTests: [] });
    }
  });

  test("do not contain the CoinGecko fake, even copied elsewhere", async () => {
    const fake = await Bun.file(FAKE).text();
    for (const marker of FAKE_MARKERS) expect(fake).toContain(marker);
    for (const bundle of bundles) {
      const found = FAKE_MARKERS.filter((marker) => bundle.text.includes(marker));
      expect({ entry: bundle.entry, found }).toEqual({ entry: bundle.entry, found: [] });
    }
  });

  test("check markers that no shipped source has of its own", async () => {
    // Otherwise the check above would fail for a reason other than the fake.
    const sources = readdirSync(join(ROOT, "lib"), { recursive: true, encoding: "utf8" })
      .filter((path) => /\.tsx?$/.test(path))
      .map((path) => join("lib", path));
    for (const path of [...sources, ...ENTRIES]) {
      const text = await Bun.file(join(ROOT, path)).text();
      const found = FAKE_MARKERS.filter((marker) => text.includes(marker));
      expect({ path, found }).toEqual({ path, found: [] });
    }
  });
});
