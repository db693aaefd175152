import type { Progress } from "./wait.ts";

/** What `up` did for one service. */
export type UpOutcome = "reused" | "started";

/** One line of `status` for one service. */
export interface ServiceStatus {
  name: string;
  /** Answers on its ports and passes its health check. */
  healthy: boolean;
  /** Pid of the process this stack started, when it is still alive. */
  pid: number | undefined;
  /** Free-form detail, e.g. the address or why it is unhealthy. */
  detail: string;
}

/** A server of the stack: started, checked and stopped the same way by `up`, `status` and `down`. */
export interface Service {
  readonly name: string;
  /** Starts the server unless a healthy one already answers on its port. */
  up(progress: Progress): Promise<UpOutcome>;
  /** Stops the server if this stack started it; with `wipe`, deletes its data too. Returns what it did. */
  down(wipe: boolean): Promise<string>;
  status(): Promise<ServiceStatus>;
}
