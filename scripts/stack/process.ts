import { closeSync, existsSync, openSync, readFileSync } from "node:fs";

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Fail when the command has not finished in this time. Default 120 000 ms. */
  timeoutMs?: number;
}

/**
 * Runs a command to completion and returns its stdout; throws with the command's output when it fails.
 * Defaults: inherits the environment, 120 s timeout.
 */
export async function run(cmd: string[], options: RunOptions = {}): Promise<string> {
  const proc = Bun.spawn({
    cmd,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 120_000,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    const output = `${stdout}\n${stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(
      `command failed (exit ${code}${proc.signalCode ? `, ${proc.signalCode}` : ""}): ${cmd.join(" ")}\n${output}`,
    );
  }
  return stdout;
}

/**
 * Starts a long-running server in its own session, with stdout and stderr appended to `logFile`,
 * so that it outlives the process that started it (a test run, a CLI call). Returns its pid.
 */
export function spawnDetached(
  cmd: string[],
  options: { cwd?: string; logFile: string; env?: Record<string, string> },
): number {
  const fd = openSync(options.logFile, "a");
  try {
    const proc = Bun.spawn({
      cmd,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    // Without unref the parent would wait for the server to exit.
    proc.unref();
    return proc.pid;
  } finally {
    closeSync(fd);
  }
}

/** The pid on the first line of `file`, or undefined when the file is missing or holds no number. */
export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").split("\n")[0]?.trim() ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether `pid` exists and has not exited (a zombie has exited; only its parent's wait() is missing). */
export function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is alive and its command line contains `needle`.
 * The needle guards against pids recycled by an unrelated process after a reboot or crash.
 */
export function isOurProcess(pid: number | undefined, needle: string): pid is number {
  if (pid === undefined) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    return cmdline.includes(needle) && isAlive(pid);
  } catch {
    return false;
  }
}

/**
 * Stops `pid` gracefully: sends `signal`, waits up to `graceMs`, then SIGKILL. Resolves once it is gone.
 * Defaults: SIGTERM, 30 s grace.
 */
export async function stopProcess(
  pid: number,
  options: { signal?: NodeJS.Signals; graceMs?: number; needle: string },
): Promise<"stopped" | "killed"> {
  const gone = () => !isOurProcess(pid, options.needle);
  try {
    process.kill(pid, options.signal ?? "SIGTERM");
  } catch {
    return "stopped";
  }
  const deadline = performance.now() + (options.graceMs ?? 30_000);
  while (performance.now() < deadline) {
    if (gone()) return "stopped";
    await Bun.sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return "stopped";
  }
  for (let i = 0; i < 50 && !gone(); i++) await Bun.sleep(100);
  return "killed";
}

/** The last `lines` lines of a log file, or a note that it does not exist. Default 40 lines. */
export function tailFile(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, "utf8");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
