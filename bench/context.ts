/** What `bench/run.ts` hands each benchmark, and what a benchmark module exports. */
import type { StackInfo } from "../scripts/stack/index.ts";
import type { Figure } from "./measure.ts";

/** A local service a benchmark needs; `run.ts` skips the benchmark with a note when it is not up. */
export type Service = "postgres" | "redis" | "kafka";

/** Services, progress output and cleanup registration for one benchmark. */
export interface BenchContext {
  /** Connection settings of the local stack (everything on 127.0.0.1). */
  stack: StackInfo;
  /** Prints one progress line under the benchmark's heading. */
  log(line: string): void;
  /**
   * Registers a cleanup; run.ts runs the pending ones newest first when the benchmark ends, fails, or the
   * run is interrupted, so a database, topic or temp file never outlives the run. Returns a function that
   * runs it now instead (at most once), for a case that tidies up as soon as it is measured.
   */
  defer(cleanup: () => unknown): () => Promise<void>;
}

/** One benchmark module: a name for the progress line, the services it needs, and the measurement. */
export interface Benchmark {
  name: string;
  needs: readonly Service[];
  run(ctx: BenchContext): Promise<Figure[]>;
}
