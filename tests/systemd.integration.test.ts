// The systemd units of deploy/systemd/ as systemd itself reads them: `systemd-analyze verify` inside a scratch
// root that holds the real executable where the units expect it, and `systemd-analyze security` for their
// sandboxing. No systemd needs to run: both read the files offline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_EXIT_CODE } from "../lib/run/process.ts";
import { buildBinaries } from "../scripts/build.ts";

const UNITS = ["belly-producer.service", "belly-consumer.service"];
const SOURCE = new URL("../deploy/systemd/", import.meta.url).pathname;
let root: string;

/** Runs systemd-analyze with `args`; its exit code and everything it printed. */
function analyze(args: string[]) {
  const run = Bun.spawnSync(["systemd-analyze", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, out: `${run.stdout.toString()}${run.stderr.toString()}`.trim() };
}

/** The value of `key` in a unit's text, each occurrence. */
const values = (unit: string, key: string) =>
  [...readFileSync(join(SOURCE, unit), "utf8").matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "belly-systemd-"));
  // The units name /usr/local/bin/belly; verify checks that it exists and is executable, so the real one goes there.
  await buildBinaries({ outdir: join(root, "usr/local/bin"), bytecode: false });
  // The stock units the service depends on (sysinit.target, network-online.target, ...).
  mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
  cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
  for (const unit of UNITS) cpSync(join(SOURCE, unit), join(root, "etc/systemd/system", unit));
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("systemd units", () => {
  test("pass systemd-analyze verify without a single complaint", () => {
    const paths = UNITS.map((unit) => join(root, "etc/systemd/system", unit));
    const run = analyze(["verify", `--root=${root}`, ...paths]);
    // An unknown or misspelt key is only a warning with exit 0, so the output must be empty too.
    expect(run).toEqual({ code: 0, out: "" });
  });

  test("fail verify when the executable they start is missing (the check above is real)", () => {
    const bare = mkdtempSync(join(tmpdir(), "belly-systemd-bare-"));
    try {
      cpSync(join(root, "usr/lib"), join(bare, "usr/lib"), { recursive: true });
      cpSync(join(root, "etc"), join(bare, "etc"), { recursive: true });
      const run = analyze(["verify", `--root=${bare}`, join(bare, "etc/systemd/system", UNITS[0] as string)]);
      expect(run.code).not.toBe(0);
      expect(run.out).toContain("/usr/local/bin/belly is not executable");
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  test("are sandboxed: systemd-analyze security rates each OK or better", () => {
    for (const unit of UNITS) {
      const run = analyze([
        "security",
        "--offline=yes",
        `--root=${root}`,
        join(root, "etc/systemd/system", unit),
      ]);
      const level = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(run.out);
      expect(level?.[2]).toMatch(/^(OK|SAFE)$/);
      expect(Number(level?.[1])).toBeLessThanOrEqual(2);
    }
  });

  test("run the one executable in each role, restart on failure but not on a bad setting, and stop gracefully", () => {
    expect(values("belly-producer.service", "ExecStart")).toEqual(["/usr/local/bin/belly producer"]);
    expect(values("belly-consumer.service", "ExecStart")).toEqual(["/usr/local/bin/belly consumer"]);
    expect(values("belly-consumer.service", "ExecStartPre")).toEqual([
      "/usr/local/bin/belly consumer --migrate",
    ]);
    for (const unit of UNITS) {
      expect(values(unit, "EnvironmentFile")).toEqual(["/etc/belly-stream/belly.env"]);
      expect(values(unit, "Restart")).toEqual(["on-failure"]);
      // The entries' exit code for a bad setting: a restart would only print the same line again.
      expect(values(unit, "RestartPreventExitStatus")).toEqual([String(CONFIG_EXIT_CODE)]);
      expect(values(unit, "KillSignal")).toEqual(["SIGTERM"]);
      expect(Number.parseInt(values(unit, "TimeoutStopSec")[0] ?? "", 10)).toBeGreaterThan(30);
      expect(values(unit, "DynamicUser")).toEqual(["yes"]);
      expect(values(unit, "StateDirectory")).toEqual(["belly-stream"]);
    }
  });
});
