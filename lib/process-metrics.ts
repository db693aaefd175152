// The standard process metrics of Prometheus' client libraries (process_*), for both processes' /metrics.
import { readdirSync, readFileSync } from "node:fs";
import type { MetricFamily } from "./prometheus-text.ts";

/** When this process started, in epoch seconds: performance.timeOrigin is its start as the runtime saw it. */
const STARTED_S = performance.timeOrigin / 1000;

/** The soft limit of open files from /proc (Linux); null elsewhere or when unreadable. */
function maxFds(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** How many files this process holds open, from /proc (Linux); null elsewhere. */
function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

/**
 * CPU seconds, resident and heap memory, start time and open files of this process, named as Prometheus'
 * client libraries name them, so that dashboards and alerts written for those work unchanged. A value the
 * platform does not give (the file descriptors outside Linux) is left out.
 * @example formatExposition([...families, ...processMetrics()])
 */
export function processMetrics(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const gauge = (name: string, help: string, value: number | null): MetricFamily => ({
    name,
    type: "gauge",
    help,
    samples: value === null ? [] : [{ value }],
  });
  return [
    {
      name: "process_cpu_seconds_total",
      type: "counter",
      help: "Total user and system CPU time spent in seconds.",
      samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: "process_cpu_user_seconds_total",
      type: "counter",
      help: "Total user CPU time spent in seconds.",
      samples: [{ value: cpu.user / 1e6 }],
    },
    {
      name: "process_cpu_system_seconds_total",
      type: "counter",
      help: "Total system CPU time spent in seconds.",
      samples: [{ value: cpu.system / 1e6 }],
    },
    gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", STARTED_S),
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", memory.rss),
    gauge("process_heap_bytes", "Process heap size in bytes.", memory.heapTotal),
    gauge("process_open_fds", "Number of open file descriptors.", openFds()),
    gauge("process_max_fds", "Maximum number of open file descriptors.", maxFds()),
  ];
}
