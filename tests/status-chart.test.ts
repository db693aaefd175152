import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { HistoryStore } from "../lib/ports.ts";
import { createStatusApp } from "../lib/status/app.ts";
import { readChart } from "../lib/status/chart-data.ts";
import {
  appendPoint,
  type ChartPoint,
  chartModel,
  decodeGaps,
  decodeSeries,
  downsample,
  encodeGaps,
  encodeSeries,
  findGaps,
  niceTicks,
  position,
  timeTicks,
} from "../lib/status/chart-model.ts";
import { makeTick } from "./support/ticks.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 27, 12, 0);

describe("downsample", () => {
  test("keeps the lowest and the highest point of every column, in time order, and the ends", () => {
    // 10,000 points over 100 columns, with one spike up and one down that a mean or a stride would lose.
    const points: ChartPoint[] = Array.from({ length: 10_000 }, (_, i) => ({
      t: i,
      p: i === 1234 ? 50 : i === 8765 ? -50 : Math.sin(i / 37),
    }));
    const kept = downsample(points, 0, 10_000, 100);
    expect(kept.length).toBeLessThanOrEqual(2 * 100 + 2);
    expect(kept[0]).toBe(points[0] as ChartPoint);
    expect(kept[kept.length - 1]).toBe(points[points.length - 1] as ChartPoint);
    expect(kept.map((point) => point.t)).toEqual([...kept.map((point) => point.t)].sort((a, b) => a - b));
    for (let column = 0; column < 100; column++) {
      const slice = points.slice(column * 100, column * 100 + 100).map((point) => point.p);
      const inColumn = kept.filter((point) => Math.floor(point.t / 100) === column).map((point) => point.p);
      expect(inColumn).toContain(Math.min(...slice));
      expect(inColumn).toContain(Math.max(...slice));
    }
    expect(kept.map((point) => point.p)).toContain(50);
    expect(kept.map((point) => point.p)).toContain(-50);
  });

  test("leaves a series that already fits alone", () => {
    const points = [
      { t: 0, p: 1 },
      { t: 1, p: 2 },
    ];
    expect(downsample(points, 0, 10, 100)).toEqual(points);
  });
});

describe("findGaps", () => {
  test("counts neighbours more than the threshold apart, not those exactly at it", () => {
    const threshold = 2 * 600_000;
    const points = [
      { t: 0, p: 1 },
      { t: threshold, p: 1 }, // exactly twice the interval: on time's edge, not a gap
      { t: 2 * threshold + 1, p: 1 }, // one millisecond more: a gap
      { t: 2 * threshold + 2, p: 1 },
    ];
    expect(findGaps(points, threshold)).toEqual([
      { from: threshold, to: 2 * threshold + 1, ms: threshold + 1 },
    ]);
  });

  test("a live point long after the last one adds a gap, a repeated one is dropped", () => {
    const start = [{ t: 0, p: 1 }];
    const later = appendPoint(start, [], { t: 5_000, p: 2 }, 1_000);
    expect(later.gaps).toEqual([{ from: 0, to: 5_000, ms: 5_000 }]);
    expect(appendPoint(later.points, later.gaps, { t: 5_000, p: 3 }, 1_000).points).toHaveLength(2);
  });
});

describe("niceTicks", () => {
  test("are round steps (1, 2 or 5 × 10^n) whose ends cover the range", () => {
    for (const [lo, hi] of [
      [0.07051, 0.07114],
      [90_012.5, 91_877.25],
      [1, 1.0003],
      [0.00000123, 0.00000456],
      [12, 12],
      [-3, 7],
    ] as const) {
      const { step, values } = niceTicks(lo, hi);
      const mantissa = Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6));
      expect([1, 2, 5]).toContain(mantissa);
      expect(values[0] as number).toBeLessThanOrEqual(lo);
      expect(values[values.length - 1] as number).toBeGreaterThanOrEqual(hi);
      expect(values.length).toBeGreaterThanOrEqual(2);
      expect(values.length).toBeLessThanOrEqual(7);
      for (const value of values)
        expect(Math.abs(value / step - Math.round(value / step))).toBeLessThan(1e-6);
    }
    expect(niceTicks(0.07051, 0.07114).values).toEqual([0.0704, 0.0706, 0.0708, 0.071, 0.0712]);
  });

  test("label every tick of an axis with the decimals its step needs, outside the plot", () => {
    const model = chartModel(
      [
        { t: 0, p: 0.07051 },
        { t: HOUR, p: 0.07114 },
      ],
      "usd",
    );
    expect(model.yTicks.map((tick) => tick.label)).toEqual([
      "$0.0704",
      "$0.0706",
      "$0.0708",
      "$0.0710",
      "$0.0712",
    ]);
    // The lowest tick is drawn lowest (largest y), and every tick lies in the plot.
    expect(model.yTicks[0]?.at).toBeGreaterThan(model.yTicks[4]?.at as number);
  });
});

describe("time ticks", () => {
  test("show hours over a day and dates over a week or a month, six at most", () => {
    const day = timeTicks(NOW - DAY, NOW);
    expect(day.length).toBeLessThanOrEqual(6);
    expect(day.map((tick) => tick.label)).toEqual(["16:00", "20:00", "Nov 27", "04:00", "08:00"]);
    const week = timeTicks(NOW - 7 * DAY, NOW);
    expect(week.every((tick) => /^Nov \d+$/.test(tick.label))).toBe(true);
    expect(week.length).toBeLessThanOrEqual(6);
    const month = timeTicks(NOW - 30 * DAY, NOW);
    expect(month.every((tick) => /^(Oct|Nov) \d+$/.test(tick.label))).toBe(true);
    expect(month.length).toBeLessThanOrEqual(6);
  });
});

describe("chartModel", () => {
  test("spans the whole range when the data starts late, and labels the empty part", () => {
    const points = [
      { t: NOW - 2 * HOUR, p: 1 },
      { t: NOW - HOUR, p: 2 },
    ];
    const model = chartModel(points, "usd", { from: NOW - 7 * DAY, to: NOW, gapMs: 20 * MINUTE });
    expect(model.scale?.t0).toBe(NOW - 7 * DAY);
    expect(model.scale?.t1).toBe(NOW);
    // The first point sits near the right end, the empty week before it is left blank and labelled.
    expect(
      position(points[0] as ChartPoint, model.scale ?? { t0: 0, t1: 1, lo: 0, hi: 1 }).x,
    ).toBeGreaterThan(95);
    expect(model.since?.label).toBe("data since Nov 27, 10:00");
    expect(model.since?.x).toBeGreaterThan(95);
    // Without a range, the axis spans the data and nothing is said.
    expect(chartModel(points, "usd").since).toBeNull();
  });

  test("breaks the line at each gap and marks it with a band", () => {
    const points = [
      { t: 0, p: 1 },
      { t: MINUTE, p: 2 },
      { t: HOUR, p: 3 },
      { t: HOUR + MINUTE, p: 2 },
    ];
    const gaps = findGaps(points, 20 * MINUTE);
    const model = chartModel(points, "usd", { gaps });
    expect(model.line.match(/M/g)).toHaveLength(2);
    expect(model.area.match(/Z/g)).toHaveLength(2);
    expect(model.gaps).toHaveLength(1);
    expect(model.gaps[0]?.title).toBe("No data from Jan 1, 00:01 to Jan 1, 01:00 UTC (59m 00s)");
    expect(model.gaps[0]?.x).toBeGreaterThan(0);
    expect(model.gaps[0]?.width).toBeGreaterThan(50);
    expect(chartModel(points, "usd").line.match(/M/g)).toHaveLength(1);
  });

  test("draws nothing for no points", () => {
    expect(chartModel([], "usd")).toMatchObject({ count: 0, line: "", area: "", last: null, yTicks: [] });
  });

  test("series and gaps survive their attribute encodings exactly", () => {
    const series = [
      { t: 1_795_716_000_000, p: 0.07289999999999999 },
      { t: 1_795_716_060_000, p: 91_234.5 },
    ];
    expect(decodeSeries(encodeSeries(series))).toEqual(series);
    expect(decodeSeries("1,2;bad;3,x;4,5")).toEqual([
      { t: 1, p: 2 },
      { t: 4, p: 5 },
    ]);
    expect(decodeGaps(encodeGaps([{ from: 1, to: 9, ms: 8 }]))).toEqual([{ from: 1, to: 9, ms: 8 }]);
  });
});

describe("readChart", () => {
  test("finds the gaps of the full series and says where the data starts", async () => {
    const history = createMemoryHistory();
    const start = Date.parse(makeTick({}, 0).sourceUpdatedAt);
    const minutes = [
      ...Array.from({ length: 30 }, (_, i) => i),
      ...Array.from({ length: 30 }, (_, i) => 90 + i),
    ];
    await history.upsert(minutes.map((minute) => makeTick({}, minute)));
    const now = start + 120 * MINUTE;
    const chart = await readChart(history, "beldex", "usd", "24h", now, MINUTE);
    expect(chart).toMatchObject({
      range: "24h",
      from: now - DAY,
      to: now,
      gapMs: 2 * MINUTE,
      since: start,
      ticks: 60,
    });
    expect(chart.gaps.map(({ from, to, length }) => ({ from, to, length }))).toEqual([
      { from: start + 29 * MINUTE, to: start + 90 * MINUTE, length: "1h 01m" },
    ]);
  });
});

describe("kept chart reads", () => {
  function counted(history: HistoryStore) {
    const reads = { count: 0 };
    const wrap =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A) => {
        reads.count++;
        return call(...args);
      };
    return {
      reads,
      history: {
        ...history,
        range: wrap(history.range.bind(history)),
        candles: wrap(history.candles.bind(history)),
        recent: wrap(history.recent.bind(history)),
      },
    };
  }

  test("are reused until a tick of that pair arrives, then rebuilt; another pair's tick changes nothing", async () => {
    const cache = createMemoryCache();
    const memory = createMemoryHistory();
    const seed = [makeTick({}, 0), makeTick({ asset: "bitcoin", price: 90_000 }, 0)];
    await cache.putIfNewer(seed);
    await memory.upsert(seed);
    const { history, reads } = counted(memory);
    let now = Date.parse(makeTick({}, 1).sourceUpdatedAt);
    const app = createStatusApp({
      cache,
      history,
      fetchIntervalMs: 600_000,
      now: () => now,
      health: () => ({ metrics: createConsumerMetrics(), lag: 0, startedAt: 0 }),
    });
    const get = async (path = "/?pair=beldex:usd") => (await app.request(path)).text();

    await get();
    const first = reads.count;
    expect(first).toBe(2); // the chart's range and the table's recent ticks
    await get();
    await get();
    expect(reads.count).toBe(first);

    const other = makeTick({ asset: "bitcoin", price: 91_000 }, 2);
    await memory.upsert([other]);
    await cache.putIfNewer([other]);
    now += MINUTE;
    await get();
    expect(reads.count).toBe(first);

    const next = makeTick({ price: 0.08 }, 3);
    await memory.upsert([next]);
    await cache.putIfNewer([next]);
    now += MINUTE;
    const html = await get();
    expect(reads.count).toBe(2 * first);
    expect(html).toContain('data-points="2"');
    await get();
    expect(reads.count).toBe(2 * first);
  });
});
