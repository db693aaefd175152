// `bun run build [--target bun-linux-arm64] [--outdir dist] [--no-bytecode]`: compiles the one executable
// dist/belly, which takes its role as its first argument (`belly producer`, `belly consumer`, `belly migrate`,
// `belly doctor`) and carries the Bun runtime, every dependency and the SQL migrations, so it runs with
// nothing but its environment. One executable instead of one per role: each would be nearly all the same runtime.
import { rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { MIGRATIONS } from "../lib/adapters/postgres/migrations.ts";
import { bundleClientScript } from "../lib/status/assets.ts";

const ROOT = resolve(import.meta.dir, "..");

/** What gets compiled: entry file -> executable name; `migrations` marks binaries that must carry the SQL. */
export const BINARIES = [{ entry: "scripts/belly.ts", name: "belly", migrations: true }] as const;

/** Options of {@link buildBinaries}; all optional. */
export interface BuildOptions {
  /** Cross-compile target such as "bun-linux-arm64"; default the machine running the build. */
  target?: Bun.Build.CompileTarget;
  /** Output directory; default `dist` in the repository root. */
  outdir?: string;
  /** Precompile to bytecode: about twice as fast to start for ~3 MB more. Default true. */
  bytecode?: boolean;
}

/** One executable written by {@link buildBinaries}. */
export interface BuiltBinary {
  name: string;
  path: string;
  bytes: number;
  ms: number;
}

/** The build failed; the message carries Bun's build log. */
export class BuildError extends Error {
  override name = "BuildError";
}

/**
 * Compiles every entry of {@link BINARIES} with `Bun.build({ compile })`, minified, with an embedded source
 * map (stack traces point at the TypeScript) and, by default, bytecode. The executables read neither `.env`
 * nor `bunfig.toml` from their working directory: the environment is their only configuration, as on Fly.
 * Throws {@link BuildError} when Bun reports errors or a binary lacks the migrations it must carry.
 * @example const built = await buildBinaries({ target: "bun-linux-arm64" });
 */
export async function buildBinaries(options: BuildOptions = {}): Promise<BuiltBinary[]> {
  const outdir = resolve(ROOT, options.outdir ?? "dist");
  const bytecode = options.bytecode ?? true;
  const built: BuiltBinary[] = [];
  // The status page's browser script, bundled now: the binary cannot bundle client.ts at run time.
  const liveScript = await bundleClientScript();
  for (const binary of BINARIES) {
    const started = performance.now();
    const outfile = join(outdir, binary.name);
    let result: Bun.BuildOutput;
    try {
      result = await Bun.build({
        entrypoints: [join(ROOT, binary.entry)],
        compile: {
          outfile,
          ...(options.target ? { target: options.target } : {}),
          autoloadDotenv: false,
          autoloadBunfig: false,
        },
        // Top-level await in the entries needs ESM; bytecode defaults to CommonJS otherwise.
        format: "esm",
        minify: true,
        sourcemap: "linked",
        bytecode,
        define: { BELLY_LIVE_JS: JSON.stringify(liveScript) },
      });
    } catch (cause) {
      // Bun.build throws an AggregateError of build messages instead of returning success: false.
      throw new BuildError(`${binary.entry}: ${buildLog(cause)}`, { cause });
    }
    if (!result.success) throw new BuildError(`${binary.entry}: ${result.logs.map(String).join("\n")}`);
    // The source map is embedded in the executable (stack traces name the .ts lines without it); the copy
    // Bun also writes beside it would only be mistaken for something to ship.
    rmSync(`${outfile}.map`, { force: true });
    if (binary.migrations) await assertCarriesMigrations(outfile);
    built.push({
      name: binary.name,
      path: outfile,
      bytes: statSync(outfile).size,
      ms: Math.round(performance.now() - started),
    });
  }
  return built;
}

function buildLog(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(String).join("\n");
  return error instanceof Error ? error.message : String(error);
}

/** The text import of each migration must have been inlined, or the deployed binary could not migrate. */
async function assertCarriesMigrations(path: string): Promise<void> {
  const bytes = Buffer.from(await Bun.file(path).arrayBuffer());
  for (const migration of MIGRATIONS) {
    const marker = migration.sql.split("\n").find((line) => line.trim() && !line.startsWith("--"));
    if (marker && bytes.indexOf(marker) < 0)
      throw new BuildError(`${path} does not carry migration ${migration.file}`);
  }
}

/** "110.2 MB" */
function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      target: { type: "string" },
      outdir: { type: "string" },
      "no-bytecode": { type: "boolean", default: false },
    },
  });
  const started = performance.now();
  try {
    const built = await buildBinaries({
      target: values.target as Bun.Build.CompileTarget | undefined,
      outdir: values.outdir,
      bytecode: !values["no-bytecode"],
    });
    for (const binary of built)
      console.log(`${relative(process.cwd(), binary.path)}  ${megabytes(binary.bytes)}  ${binary.ms} ms`);
    console.log(
      `built ${built.length} ${built.length === 1 ? "binary" : "binaries"} for ${values.target ?? `${process.platform}-${process.arch}`} in ${Math.round(performance.now() - started)} ms`,
    );
  } catch (error) {
    process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
