import { deadLetterHeaders } from "../../dead-letters.ts";
import { BusError, describeError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type {
  BatchContext,
  BatchHandler,
  BusMessage,
  DeadLetters,
  Subscription,
  TickPublisher,
} from "../../ports.ts";
import { sleep as defaultSleep, retry, StoppedError } from "../../retry.ts";
import { encodeTick, TICK_HEADERS, tickKey } from "../../tick.ts";

/** Options of {@link createLocalBus}; all optional. */
export interface LocalBusOptions {
  /** Topic name put on every message, as Kafka would. Default "belly-price" (dead letters: "<topic>.dlq"). */
  topic?: string;
  /** Most messages handed to the handler at once. Default 500. */
  maxBatch?: number;
  /** Most published messages waiting for the handler before publish rejects. Default 100 000. */
  maxPending?: number;
  /** Wait before a batch whose handler threw is delivered again. Default 1000 ms. */
  retryDelayMs?: number;
  /** Injected for tests; default the abortable {@link defaultSleep}. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The in-process bus: a publisher for the producer, a subscription for the consumer. */
export interface LocalBus {
  /** Publishes ticks (and dead letters) onto the bus; resolves once they are queued. */
  publisher: TickPublisher & DeadLetters;
  /** Starts delivering batches to `handler`; one subscription at a time, like one consumer group member. */
  subscribe(handler: BatchHandler, log: Logger): Subscription;
  /** Every dead letter sent, oldest first, with the same headers the Kafka DLQ carries. */
  deadLetters: BusMessage[];
  /** Offset of the next message the handler has not yet resolved (the committed offset). */
  committed(): number;
  /** Messages published and not yet committed. */
  pending(): number;
}

/**
 * An in-process stand-in for Kafka, for the single-process dev mode: same message encoding (key
 * asset:currency, JSON value, tick headers) so the consumer validates exactly what it would read from Kafka,
 * and the same delivery contract — batches of whatever is pending (at most `maxBatch`), one partition in
 * publish order, the offset committed only after the handler resolved, a failed batch delivered again after
 * `retryDelayMs` (never skipped), and `stop()` aborting the batch in flight, which stays uncommitted. Nothing
 * survives the process: a tick published and not yet handled is lost with it, which is why this is for dev.
 * Defaults: topic "belly-price", maxBatch 500, maxPending 100 000, retryDelayMs 1000.
 * @example
 * const bus = createLocalBus();
 * const subscription = bus.subscribe(createBatchProcessor(deps), log);
 * await bus.publisher.publish(ticks);
 */
export function createLocalBus(options: LocalBusOptions = {}): LocalBus {
  const topic = options.topic ?? "belly-price";
  const maxBatch = Math.max(1, options.maxBatch ?? 500);
  const maxPending = options.maxPending ?? 100_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const sleep = options.sleep ?? defaultSleep;

  // Committed messages are dropped: `queue[0]` sits at offset `base`, so memory holds only the backlog.
  const queue: BusMessage[] = [];
  let base = 0;
  const deadLetters: BusMessage[] = [];
  let publisherClosed = false;
  let active: { stopped: boolean } | null = null;
  let wake: (() => void) | null = null;

  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };

  function append(messages: Omit<BusMessage, "offset" | "partition" | "topic">[]) {
    if (publisherClosed) throw new BusError("local bus: publish after close");
    if (queue.length + messages.length > maxPending)
      throw new BusError(
        `local bus: ${queue.length} messages wait for the consumer, the limit is ${maxPending}`,
        {
          hint: "the consumer is not keeping up or not running; check its log for sink errors",
        },
      );
    for (const message of messages)
      queue.push({ ...message, topic, partition: 0, offset: String(base + queue.length) });
    notify();
  }

  function waitForMessages(signal: AbortSignal): Promise<void> {
    if (queue.length > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      wake = () => {
        // One listener per wait would pile up over a long run; drop it once the wait is over.
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  const publisher: TickPublisher & DeadLetters = {
    async publish(ticks) {
      if (ticks.length === 0) return;
      append(
        ticks.map((tick) => ({
          key: tickKey(tick),
          value: Buffer.from(encodeTick(tick)),
          headers: { ...TICK_HEADERS },
        })),
      );
    },
    async send(items) {
      for (const { message, reason } of items)
        deadLetters.push({
          topic: `${topic}.dlq`,
          partition: 0,
          offset: String(deadLetters.length),
          key: message.key,
          value: message.value,
          headers: deadLetterHeaders(message, reason),
        });
    },
    async close() {
      publisherClosed = true;
    },
  };

  function subscribe(handler: BatchHandler, log: Logger): Subscription {
    if (active && !active.stopped)
      throw new BusError("local bus: already subscribed", { hint: "stop the running subscription first" });
    const state = { stopped: false };
    active = state;
    const stopping = new AbortController();
    const ctx: BatchContext = { signal: stopping.signal, heartbeat: async () => {} };

    async function loop(): Promise<void> {
      while (!stopping.signal.aborted) {
        await waitForMessages(stopping.signal);
        if (stopping.signal.aborted) return;
        let batch: BusMessage[] = [];
        try {
          // A failed batch is never skipped: it is delivered again, with what was published meanwhile.
          await retry(
            () => {
              batch = queue.slice(0, maxBatch);
              return handler(batch, ctx);
            },
            {
              retries: Number.POSITIVE_INFINITY,
              shouldRetry: (error) => !(error instanceof StoppedError),
              delayFor: () => retryDelayMs,
              sleep,
              signal: stopping.signal,
              onRetry: ({ error, delayMs }) =>
                log.warn("batch failed, delivering it again", {
                  offset: batch[0]?.offset,
                  messages: batch.length,
                  retryInMs: delayMs,
                  error: describeError(error),
                }),
            },
          );
        } catch (error) {
          if (error instanceof StoppedError) return;
          throw error;
        }
        // Like the Kafka subscriber, a batch that ends after stop() is not committed: the next subscriber gets
        // it again and the sinks' idempotence absorbs the replay.
        if (stopping.signal.aborted) return;
        // The handler resolved: every message is written, so the offset may move past them ("commit").
        queue.splice(0, batch.length);
        base += batch.length;
      }
    }

    const done = loop().finally(() => {
      state.stopped = true;
    });
    return {
      done,
      async stop() {
        stopping.abort();
        await done.catch(() => {});
      },
    };
  }

  return {
    publisher,
    subscribe,
    deadLetters,
    committed: () => base,
    pending: () => queue.length,
  };
}
