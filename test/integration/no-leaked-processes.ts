import { afterAll, expect } from "vitest";
import { killAllServices, runningServiceCount } from "@dmabroker/testkit";

// Runs after each integration file's own teardown: every process it started
// must be gone by then. Leftovers are killed (by pid) and fail the file.
afterAll(async () => {
  const leaked = runningServiceCount();
  await killAllServices();
  expect(leaked, "service processes still running after the file's teardown").toBe(0);
});
