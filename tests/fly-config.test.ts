// fly.toml as Fly reads it: process groups on the compiled binaries, the HTTP service and its checks on the
// consumer only, graceful stops, and a check for each group.
import { describe, expect, test } from "bun:test";
import { dirname, relative, resolve } from "node:path";
import { ROLES } from "../scripts/belly.ts";
import { BINARIES } from "../scripts/build.ts";

interface Check {
  processes?: string[];
  type?: string;
  port?: number;
  method?: string;
  path?: string;
  grace_period?: string;
  interval?: string;
  timeout?: string;
}

interface FlyConfig {
  app: string;
  kill_signal?: string;
  kill_timeout?: number | string;
  build?: { dockerfile?: string };
  deploy?: { release_command?: string };
  env?: Record<string, unknown>;
  processes: Record<string, string>;
  http_service?: {
    processes?: string[];
    internal_port?: number;
    force_https?: boolean;
    auto_stop_machines?: string | boolean;
    auto_start_machines?: boolean;
    min_machines_running?: number;
    checks?: Check[];
  };
  checks?: Record<string, Check>;
  vm?: { processes?: string[]; size?: string; memory?: string }[];
  metrics?: { port?: number; path?: string; processes?: string[] }[];
}

const config = Bun.TOML.parse(
  await Bun.file(new URL("../fly.toml", import.meta.url)).text(),
) as unknown as FlyConfig;

/** Fly reads kill_timeout as seconds, or as a Go duration string such as "60s" or "1m". */
function seconds(value: number | string | undefined): number {
  if (typeof value === "number") return value;
  const match = /^(\d+)(s|m)$/.exec(value ?? "");
  if (!match) return Number.NaN;
  return Number(match[1]) * (match[2] === "m" ? 60 : 1);
}

/** "15s" -> 15000; Fly reads a bare number as milliseconds. */
function ms(value: string | undefined): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value ?? "");
  if (!match) return Number.NaN;
  return Number(match[1]) * ({ ms: 1, s: 1_000, m: 60_000 }[match[2] ?? "ms"] ?? Number.NaN);
}

describe("fly.toml", () => {
  test("names the app and builds the Dockerfile", () => {
    expect(config.app).toBe("belly-stream");
    expect(config.build?.dockerfile).toBe("Dockerfile");
  });

  test("runs the one binary as two process groups, each in its role", () => {
    expect(config.processes).toEqual({ producer: "/app/belly producer", consumer: "/app/belly consumer" });
    // The commands name exactly the executable scripts/build.ts makes, and roles it takes.
    for (const command of [...Object.values(config.processes), config.deploy?.release_command ?? ""]) {
      const [path, role] = command.split(" ");
      expect(BINARIES.map((binary) => `/app/${binary.name}`)).toContain(path as string);
      expect(Object.keys(ROLES)).toContain(role as string);
    }
  });

  test("binds the HTTP service to the consumer only, always on", () => {
    const service = config.http_service;
    expect(service?.processes).toEqual(["consumer"]);
    expect(service?.internal_port).toBe(8080);
    expect(service?.force_https).toBe(true);
    expect(service?.auto_stop_machines).toBe("off");
    expect(service?.auto_start_machines).toBe(true);
    expect(service?.min_machines_running).toBeGreaterThanOrEqual(1);
    expect(String(config.env?.PORT)).toBe(String(service?.internal_port));
  });

  test("checks the consumer's /healthz through the service, within sane timings", () => {
    const checks = config.http_service?.checks ?? [];
    expect(checks.map((check) => `${check.method} ${check.path}`)).toEqual(["GET /healthz"]);
    for (const check of checks) {
      expect(ms(check.timeout)).toBeLessThan(ms(check.interval));
      expect(ms(check.grace_period)).toBeGreaterThanOrEqual(5_000);
    }
  });

  test("watches the consumer's /readyz and the producer's health with top-level checks, one group each", () => {
    const checks = Object.values(config.checks ?? {});
    const forGroup = (group: string) => checks.filter((check) => check.processes?.includes(group));
    expect(forGroup("consumer").map((check) => check.path)).toEqual(["/readyz"]);
    expect(forGroup("producer").map((check) => check.path)).toEqual(["/healthz"]);
    for (const check of checks) {
      expect(check.processes).toHaveLength(1);
      expect(check.type).toBe("http");
      // Each check probes the port its own process serves: PORT for the consumer, HEALTH_PORT for the producer.
      const port = check.processes?.includes("producer") ? config.env?.HEALTH_PORT : config.env?.PORT;
      expect(String(check.port)).toBe(String(port));
      expect(ms(check.timeout)).toBeLessThan(ms(check.interval));
    }
  });

  test("has Fly scrape each process group's /metrics on the port that group serves", () => {
    const metrics = config.metrics ?? [];
    for (const group of Object.keys(config.processes)) {
      const scraped = metrics.filter((m) => m.processes?.includes(group));
      expect(scraped).toHaveLength(1);
      expect(scraped[0]?.path).toBe("/metrics");
      const port = group === "producer" ? config.env?.HEALTH_PORT : config.env?.PORT;
      expect(String(scraped[0]?.port)).toBe(String(port));
    }
  });

  test("listens on every interface (HOST), which Fly's proxy, checks and scrapes need", () => {
    expect(config.env?.HOST).toBe("0.0.0.0");
  });

  test("stops with SIGTERM and waits longer than a batch before SIGKILL", () => {
    expect(config.kill_signal).toBe("SIGTERM");
    // The consumer's sink retries back off up to 30 s; Fly allows at most 300 s.
    expect(seconds(config.kill_timeout)).toBeGreaterThan(30);
    expect(seconds(config.kill_timeout)).toBeLessThanOrEqual(300);
  });

  test("holds the engine to 64 MiB of garbage-collection headroom, without the optimizing tiers", () => {
    expect(config.env?.BUN_JSC_forceRAMSize).toBe(String(64 * 1024 * 1024));
    expect(config.env?.BUN_JSC_useDFGJIT).toBe("0");
    const consumerVm = (config.vm ?? []).find((vm) => vm.processes?.includes("consumer"));
    // The engine must collect long before the machine runs out: its budget stays under the machine's memory.
    expect(Number(config.env?.BUN_JSC_forceRAMSize)).toBeLessThan(
      Number.parseInt(consumerVm?.memory ?? "", 10) * 1e6,
    );
  });

  test("sets only engine options this Bun applies (a misspelt one would stop every process at start)", () => {
    const engine = Object.entries(config.env ?? {}).filter(([name]) => name.startsWith("BUN_JSC_"));
    expect(engine.length).toBeGreaterThan(0);
    const run = Bun.spawnSync([process.execPath, "-e", "0"], {
      env: {
        ...Object.fromEntries(engine.map(([name, value]) => [name, String(value)])),
        BUN_JSC_dumpOptions: "1",
      },
    });
    const dump = `${run.stdout}${run.stderr}`;
    expect(run.exitCode).toBe(0);
    // dumpOptions=1 lists the options that differ from their defaults, each as `name=value (default: ...)`.
    for (const [name, value] of engine) {
      const option = name.slice("BUN_JSC_".length);
      const shown = value === "0" ? "false" : String(value);
      expect(dump).toMatch(new RegExp(`\\b${option}=${shown} \\(default: `));
    }
  });

  test("sizes each process group's machines", () => {
    for (const group of Object.keys(config.processes)) {
      const sized = (config.vm ?? []).filter((vm) => vm.processes?.includes(group));
      expect(sized).toHaveLength(1);
      expect(sized[0]?.memory).toMatch(/^\d+(mb|gb)$/);
    }
  });

  test("keeps secrets out of [env]", () => {
    const names = Object.keys(config.env ?? {});
    expect(
      names.filter((name) => /PASSWORD|TOKEN|KEY|SECRET|DATABASE_URL|REDIS_URL|BROKERS/.test(name)),
    ).toEqual([]);
    expect(Object.values(config.env ?? {}).every((value) => typeof value === "string")).toBe(true);
  });
});

const dockerfile = await Bun.file(new URL("../Dockerfile", import.meta.url)).text();
const ignore = (await Bun.file(new URL("../.dockerignore", import.meta.url)).text())
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));

describe("Dockerfile and .dockerignore", () => {
  const allowed = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1));
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

  test("sends only an allow-list as build context, so .env and .stack never leave the machine", () => {
    expect(ignore[0]).toBe("*");
    expect(allowed.some((path) => path.startsWith(".env") || path.startsWith(".stack"))).toBe(false);
  });

  test("lets through every path the build stage copies from the context", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((match) =>
      (match[1] ?? "").trim().split(/\s+/).slice(0, -1),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources.map((path) => path.replace(/^\.\//, "")))
      expect(allowed.some((path) => source === path || source.startsWith(`${path}/`))).toBe(true);
  });

  test("lets through every source file the executable's entry imports, however deep", async () => {
    const transpilers = {
      ts: new Bun.Transpiler({ loader: "ts" }),
      tsx: new Bun.Transpiler({ loader: "tsx" }),
    };
    const root = new URL("../", import.meta.url).pathname;
    const seen = new Set<string>();
    const visit = async (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      // SQL, CSS and other text imports are files to copy, with no imports of their own.
      const transpiler = path.endsWith(".tsx")
        ? transpilers.tsx
        : path.endsWith(".ts")
          ? transpilers.ts
          : null;
      if (!transpiler) return;
      const source = await Bun.file(path).text();
      for (const { path: spec } of transpiler.scanImports(source))
        if (spec.startsWith(".")) await visit(resolve(dirname(path), spec));
    };
    for (const binary of BINARIES) await visit(resolve(root, binary.entry));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((match) =>
      (match[1] ?? "").trim().split(/\s+/).slice(0, -1),
    );
    const files = [...seen].map((path) => relative(root, path));
    expect(files).toContain("scripts/doctor.ts");
    for (const file of files) {
      const inside = (paths: string[]) => paths.some((p) => file === p || file.startsWith(`${p}/`));
      expect({ file, allowed: inside(allowed) }).toEqual({ file, allowed: true });
      expect({ file, copied: inside(copied) }).toEqual({ file, copied: true });
    }
  });

  test("ships the binary to /app and runs it as the consumer, non-root, by default", () => {
    for (const binary of BINARIES) expect(runtime).toContain(`/out/${binary.name}`);
    expect(runtime).toMatch(/^USER nonroot$/m);
    expect(runtime).toContain('CMD ["/app/belly", "consumer"]');
    expect(runtime).not.toMatch(/^ENTRYPOINT/m);
  });

  test("listens on every interface inside the container (HOST), where local runs keep 127.0.0.1", () => {
    expect(runtime).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
  });
});
