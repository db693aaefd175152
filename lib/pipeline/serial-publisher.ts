import type { TickPublisher } from "../ports.ts";

/**
 * The publisher with its sends one after another: the poll and the backfill share one idempotent producer, and
 * a send racing one Kafka has not answered yet can be taken by the broker for a duplicate and dropped (see
 * produce.ts). A failed send does not stop the ones queued behind it. `close` waits for the queue.
 * @example const publisher = serialPublisher(await createKafkaPublisher(kafka, settings));
 */
export function serialPublisher(inner: TickPublisher): TickPublisher {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    publish(ticks) {
      const send = tail.then(() => inner.publish(ticks));
      tail = send.catch(() => {});
      return send;
    },
    async close() {
      await tail;
      await inner.close();
    },
  };
}
