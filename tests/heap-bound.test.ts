import { expect, test } from "bun:test";
import { createHeapBound } from "../lib/run/heap-bound.ts";

test("collects once every `everyTicks` ticks written, counting across batches", () => {
  let collections = 0;
  const bound = createHeapBound(1_000, () => collections++);
  bound.written(400);
  bound.written(500);
  expect(collections).toBe(0);
  bound.written(100);
  expect(collections).toBe(1);
  bound.written(999);
  expect(collections).toBe(1);
  bound.written(1);
  expect(collections).toBe(2);
});

test("collects for real by default", () => {
  expect(() => createHeapBound(1).written(1)).not.toThrow();
});
