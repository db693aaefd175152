import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { cacheContract } from "./contracts/cache-contract.ts";
import { historyContract } from "./contracts/history-contract.ts";

historyContract("memory", async () => ({ store: createMemoryHistory(), dispose: async () => {} }));
cacheContract("memory", async () => ({ cache: createMemoryCache(), dispose: async () => {} }));
