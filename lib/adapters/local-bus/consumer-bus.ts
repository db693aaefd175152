import type { Logger } from "../../log.ts";
import type { ConsumerBus } from "../../ports.ts";
import type { LocalBus } from "./bus.ts";

/** The consumer's side of the in-process bus (one-process mode); its lag is what is queued. */
export function localConsumerBus(bus: LocalBus, log: Logger): ConsumerBus {
  return {
    deadLetters: bus.publisher,
    subscribe: async (handler) => bus.subscribe(handler, log),
    lag: () => bus.pending(),
    async close() {},
  };
}
