// The house rules of lib/, read from the code's own imports: each layer imports only from layers below it,
// there is no import circle, nothing under lib/ imports a test tool, and only entry files exit the process.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** Layers from the bottom up; a file may import its own layer (where `siblings` allows) and any lower one. */
const LAYERS: { name: string; match: (path: string) => boolean; siblings: boolean }[] = [
  { name: "core", match: (p) => /^lib\/[^/]+\.tsx?$/.test(p) && p !== "lib/config.ts", siblings: true },
  { name: "checks", match: (p) => p.startsWith("lib/checks/"), siblings: true },
  { name: "adapters", match: (p) => p.startsWith("lib/adapters/"), siblings: true },
  { name: "pipeline", match: (p) => p.startsWith("lib/pipeline/"), siblings: true },
  { name: "demo", match: (p) => p.startsWith("lib/demo/"), siblings: true },
  { name: "status", match: (p) => p.startsWith("lib/status/"), siblings: true },
  { name: "config", match: (p) => p === "lib/config.ts", siblings: false },
  { name: "doctor", match: (p) => p.startsWith("lib/doctor/"), siblings: true },
  { name: "run", match: (p) => p.startsWith("lib/run/"), siblings: true },
];
/** Pairs of layers at the same height that must not know each other. */
const RANK: Record<string, number> = {
  core: 0,
  checks: 1,
  adapters: 2,
  pipeline: 2,
  demo: 2,
  status: 3,
  config: 3,
  doctor: 4,
  run: 5,
};

function layerOf(path: string): string | undefined {
  return LAYERS.find((layer) => layer.match(path))?.name;
}

const libFiles = [...new Bun.Glob("lib/**/*.{ts,tsx}").scanSync({ cwd: ROOT })].filter(
  (path) => !path.endsWith(".d.ts"),
);

/** Relative imports of one file (static, dynamic and re-exports), as repository paths. */
function importsOf(path: string): string[] {
  const text = readFileSync(join(ROOT, path), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1],
  );
  return specifiers.map((spec) => relative(ROOT, resolve(dirname(join(ROOT, path)), spec as string)));
}

const graph = new Map(libFiles.map((path) => [path, importsOf(path)]));

describe("layers of lib/", () => {
  test("every file of lib/ belongs to a layer", () => {
    expect(libFiles.filter((path) => !layerOf(path))).toEqual([]);
  });

  test("no import runs from a lower layer to a higher one, or across layers of the same height", () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      const own = layerOf(from) as string;
      for (const to of targets) {
        if (!to.startsWith("lib/") || /\.(sql|css)$/.test(to)) continue;
        const theirs = layerOf(to) as string;
        const same = own === theirs;
        const allowed = same
          ? LAYERS.find((layer) => layer.name === own)?.siblings
          : (RANK[theirs] as number) < (RANK[own] as number);
        if (!allowed) wrong.push(`${from} (${own}) imports ${to} (${theirs})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("nothing under lib/ imports from tests/ or bench/", () => {
    const wrong = [...graph].flatMap(([from, targets]) =>
      targets.filter((to) => /^(tests|bench)\//.test(to)).map((to) => `${from} imports ${to}`),
    );
    expect(wrong).toEqual([]);
  });

  test("there is no import circle", () => {
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (path: string, trail: string[]) => {
      if (state.get(path) === "done") return;
      if (state.get(path) === "open") {
        circles.push([...trail.slice(trail.indexOf(path)), path].join(" -> "));
        return;
      }
      state.set(path, "open");
      for (const to of graph.get(path) ?? []) if (graph.has(to)) visit(to, [...trail, path]);
      state.set(path, "done");
    };
    for (const path of graph.keys()) visit(path, []);
    expect(circles).toEqual([]);
  });

  test("only entry files exit the process: nothing under lib/ calls process.exit", () => {
    const calls = libFiles.filter((path) => readFileSync(join(ROOT, path), "utf8").includes("process.exit"));
    expect(calls).toEqual([]);
  });

  test("the rules see real imports (a file known to import the ports is read)", () => {
    expect(graph.get("lib/pipeline/consume.ts")).toContain("lib/ports.ts");
  });
});
