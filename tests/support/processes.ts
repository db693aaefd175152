import type { Subprocess } from "bun";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A running entry file (producer.ts or consumer.ts) with its output collected. */
export interface EntryProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** stdout and stderr lines so far. */
  lines: string[];
  /** Resolves with the exit code. */
  exited: Promise<number>;
  /** The parsed JSON log lines. */
  logs(): Record<string, unknown>[];
}

async function collect(stream: ReadableStream<Uint8Array>, lines: string[]) {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts.filter(Boolean));
  }
  if (rest) lines.push(rest);
}

/**
 * Starts `bun run <file>` from the repo root with exactly `env` (plus PATH and HOME), like a user would.
 * @example const consumer = startEntry("consumer.ts", { KAFKA_BROKERS: "127.0.0.1:19092" });
 */
export function startEntry(file: string, env: Record<string, string>, args: string[] = []): EntryProcess {
  return startCommand([process.execPath, "run", file, ...args], env);
}

/**
 * Starts any command from the repo root with exactly `env` (plus PATH and HOME), output collected.
 * @example const run = startCommand(["bash", "scripts/run.sh", "--demo"], { PORT: "0" });
 */
export function startCommand(argv: string[], env: Record<string, string>): EntryProcess {
  const proc = Bun.spawn(argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const done = Promise.all([collect(proc.stdout, lines), collect(proc.stderr, lines)]);
  return {
    proc,
    lines,
    exited: done.then(() => proc.exited),
    logs: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

/** Runs an entry to completion; returns its exit code and output. */
export async function runEntry(
  file: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const entry = startEntry(file, env, args);
  const code = await entry.exited;
  return { code, lines: entry.lines, stderr: entry.lines.filter((l) => !l.startsWith("{")).join("\n") };
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`).
 * @example await waitFor("rows stored", async () => (await count()) === 12);
 */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
