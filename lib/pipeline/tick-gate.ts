import { BusError, describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { BusMessage, DeadLetters } from "../ports.ts";
import { withTimeout } from "../retry.ts";
import { encodeTick, TICK_HEADERS, type Tick, tickKey, tickTime } from "../tick.ts";
import { type GuardSettings, guardVerdict } from "./price-guard.ts";
import { type PublishRuleSettings, publishDecision } from "./publish-rule.ts";

/**
 * Where a reading the guard refused says it came from, in its `dlq-source` header (`producer-guard/-1/-1`):
 * it never was on the tick topic, so it has no partition or offset.
 */
export const GUARD_DLQ_TOPIC = "producer-guard";

/** How long a stop waits for the dead-letter topic to take what the guard refused: 10 s. */
const STOP_FLUSH_MS = 10_000;

/** Readings the gate has seen, by what became of them; for logs and tests. */
export interface GateCounts {
  /** Passed to the publisher (confirmed moves included). */
  admitted: number;
  /** Kept back by the publishing rule: the price moved too little and the heartbeat is not due. */
  unchanged: number;
  /** Not newer than a reading already seen for the pair (a REST poll repeating a streamed value). */
  stale: number;
  /** Jumps held by the guard (each is later confirmed or dead-lettered). */
  held: number;
  /** Held readings the next one did not confirm, dead-lettered. */
  rejected: number;
}

/** Between the price source and the publisher: per-pair order, the sanity guard, then the publishing rule. */
export interface TickGate {
  /**
   * The readings of one fetch or stream batch that are to be published, oldest first; the pair's state moves on
   * as if they were (the caller's outbox makes sure they are). Readings the guard refuses go to the dead
   * letters; a failed dead-letter send is retried with the next batch, never thrown.
   */
  admit(readings: readonly Tick[]): Promise<Tick[]>;
  /** Dead-letters every reading still held (no next reading came before the stop) and retries unsent ones. */
  close(): Promise<void>;
  readonly counts: Readonly<GateCounts>;
}

interface PairState {
  last?: Tick;
  held?: Tick;
  /** Newest source time seen (epoch ms): a reading not newer is dropped, so nothing is published twice or backwards. */
  seenMs: number;
}

/**
 * A gate with the rule and the guard as configured, both off by default: then it only drops readings that are not
 * newer than one already seen for their pair (the same identity polled again, a REST answer older than the
 * stream's). The first reading of a pair after a start has nothing to compare with and passes the guard.
 * Without `deadLetters` (the in-process bus) a refused reading is logged at error level instead.
 * @example const gate = createTickGate({ rule: config.publishRule, guard: config.guard, deadLetters: publisher, log });
 */
export function createTickGate(options: {
  rule: PublishRuleSettings | null;
  guard: GuardSettings | null;
  deadLetters?: DeadLetters;
  log: Logger;
}): TickGate {
  const { rule, guard, log } = options;
  const pairs = new Map<string, PairState>();
  const counts: GateCounts = { admitted: 0, unchanged: 0, stale: 0, held: 0, rejected: 0 };
  let unsent: { message: BusMessage; reason: string }[] = [];
  /** Refusals in a send not yet answered. */
  let sending = 0;

  const reject = (tick: Tick, reason: string) => {
    counts.rejected++;
    log.warn("reading refused by the price guard", { pair: tickKey(tick), price: tick.price, reason });
    unsent.push({ message: guardMessage(tick), reason });
  };

  const flush = async () => {
    if (unsent.length === 0) return;
    // Taken out before the send, so that a refusal added meanwhile is neither lost nor sent twice.
    const batch = unsent;
    unsent = [];
    if (!options.deadLetters) {
      for (const { message, reason } of batch)
        log.error("no dead-letter topic here: the refused reading is only logged", {
          key: message.key,
          reason,
        });
      return;
    }
    sending += batch.length;
    try {
      await options.deadLetters.send(batch);
    } catch (error) {
      unsent = [...batch, ...unsent];
      log.warn("dead-lettering refused readings failed; retried with the next batch", {
        pending: unsent.length,
        error: describeError(error),
      });
    } finally {
      sending -= batch.length;
    }
  };

  const judge = (tick: Tick, state: PairState, out: Tick[]) => {
    if (guard) {
      const verdict = guardVerdict(tick, state.last, state.held, guard);
      if (verdict.kind === "hold") {
        counts.held++;
        state.held = tick;
        return;
      }
      if (verdict.kind === "confirm" || verdict.kind === "reject") {
        state.held = undefined;
        if (verdict.kind === "reject") reject(verdict.held, verdict.reason);
        else {
          // A confirmed move is published as it was read, with its own timestamp, before the reading confirming it.
          counts.admitted++;
          out.push(verdict.held);
          state.last = verdict.held;
        }
        judge(tick, state, out);
        return;
      }
    }
    if (rule && state.last && publishDecision(tick, state.last, rule) === "unchanged") {
      counts.unchanged++;
      return;
    }
    counts.admitted++;
    out.push(tick);
    state.last = tick;
  };

  return {
    async admit(readings) {
      const out: Tick[] = [];
      // Per pair in source order, whatever order a merged batch (stream and REST) came in.
      const ordered = [...readings].sort((a, b) => tickTime(a) - tickTime(b));
      for (const tick of ordered) {
        const key = tickKey(tick);
        let state = pairs.get(key);
        if (!state) {
          state = { seenMs: Number.NEGATIVE_INFINITY };
          pairs.set(key, state);
        }
        if (tickTime(tick) <= state.seenMs) {
          counts.stale++;
          continue;
        }
        state.seenMs = tickTime(tick);
        judge(tick, state, out);
      }
      await flush();
      return out;
    },
    async close() {
      for (const state of pairs.values())
        if (state.held) {
          reject(
            state.held,
            `price guard: ${state.held.price} at ${state.held.sourceUpdatedAt} jumped by more than GUARD_FACTOR ${guard?.factor} from the last published ${state.last?.price} and no next reading came to confirm it before the producer stopped`,
          );
          state.held = undefined;
        }
      // Bounded like the outbox's last flush: a stop must not wait on a Kafka that went away.
      await withTimeout(
        STOP_FLUSH_MS,
        () => flush(),
        () => new BusError(`no answer from the dead-letter topic within ${STOP_FLUSH_MS / 1000} s`),
      ).catch(() => {});
      const lost = unsent.length + sending;
      if (lost > 0) log.warn("stopping with refused readings never dead-lettered; they are lost", { lost });
    },
    counts,
  };
}

/** A refused reading as the dead-letter port takes it: the tick message it would have been. */
function guardMessage(tick: Tick): BusMessage {
  return {
    topic: GUARD_DLQ_TOPIC,
    partition: -1,
    offset: "-1",
    key: tickKey(tick),
    value: Buffer.from(encodeTick(tick)),
    headers: { ...TICK_HEADERS },
  };
}
