import { createMemoryCache } from "../lib/cache/memory.ts";
import { createMemoryHistory } from "../lib/history/memory.ts";
import { cacheContract } from "./contracts/cache-contract.ts";
import { historyContract } from "./contracts/history-contract.ts";

historyContract("memory", async () => ({ store: createMemoryHistory(), dispose: async () => {} }));
cacheContract("memory", async () => ({ cache: createMemoryCache(), dispose: async () => {} }));
