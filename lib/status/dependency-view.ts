// The consumer's dependencies as the page, the live stream and /readyz tell them: one headline per down
// dependency naming it and its fix, and one sentence with its error. Composed here once, so that the browser
// only copies text and /readyz says exactly what the page says.
import {
  type ConsumerMetrics,
  DEPENDENCIES,
  type DependencyName,
  type DependencyState,
  downDependencies,
} from "../pipeline/metrics.ts";
import { formatAge, formatTime } from "./format.ts";

/** One dependency of the consumer, formatted. */
export interface DependencyView {
  name: DependencyName;
  up: boolean;
  /** ISO time of its last change, or null while up since the start. */
  since: string | null;
  /** The last failure's line while down (free text: always rendered as text), else null. */
  error: string | null;
  /** The fix while down, when known, else null. */
  fix: string | null;
}

/**
 * The headline of one down dependency: its name and fix, or that it is retrying when no fix is known.
 * @example downHeadline("history", { fix: "check the password in DATABASE_URL" }) // "history down: check the password in DATABASE_URL"
 */
export function downHeadline(name: DependencyName, state: Pick<DependencyState, "fix">): string {
  return state.fix ? `${name} down: ${state.fix}` : `${name} down, retrying`;
}

/**
 * The headline of every down dependency joined by " · ", or null when all are up (or nothing says which is
 * down: a bare `sinkDown` of older counters gives a generic headline).
 * @example downSummary(metrics) // "history down: check the password in DATABASE_URL"
 */
export function downSummary(metrics: ConsumerMetrics): string | null {
  const down = downDependencies(metrics);
  if (down.length > 0) return down.map((state) => downHeadline(state.name, state)).join(" · ");
  return metrics.sinkDown ? "a sink is down, retrying" : null;
}

/**
 * One sentence per down dependency for the health panel's alert: since when, the error, the fix.
 * @example downDetails(metrics, now) // ["history down since 18:03:00 UTC (4m 12s): history: upsert failed: … Fix: check the password in DATABASE_URL."]
 */
export function downDetails(metrics: ConsumerMetrics, now: number): string[] {
  const down = downDependencies(metrics);
  if (down.length === 0)
    return metrics.sinkDown ? ["A sink write failed; the consumer retries until it is written."] : [];
  return down.map(({ name, since, error, fix }) => {
    const when =
      since === null ? "" : ` since ${formatTime(since)} UTC (${formatAge(Math.max(0, now - since))})`;
    const reason = error ? `: ${error}` : "";
    const remedy = fix ? ` Fix: ${fix}.` : "";
    const meanwhile =
      name === "kafka"
        ? "The consumer reconnects by itself; new ticks wait in Kafka."
        : "The consumer retries; nothing is committed until it is written.";
    return `${name} down${when}${reason}.${remedy} ${meanwhile}`;
  });
}

/**
 * Every dependency in the order of a batch's writes, formatted.
 * @example dependencyViews(metrics)[0] // { name: "history", up: true, since: null, error: null, fix: null }
 */
export function dependencyViews(metrics: ConsumerMetrics): DependencyView[] {
  return DEPENDENCIES.map((name) => {
    const { up, since, error, fix } = metrics.dependencies[name];
    return { name, up, since: since === null ? null : new Date(since).toISOString(), error, fix };
  });
}
