import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { LoopDelayMonitor } from "../loop-delay-monitor.js";

const Stats = Type.Object({
  maxMs: Type.Number(),
  p99Ms: Type.Number(),
  p50Ms: Type.Number(),
  meanMs: Type.Number(),
  samples: Type.Integer(),
  spanMs: Type.Integer(),
});

/** The broker process's own health: event-loop delay since start and over a restartable window. */
export function registerRuntimeRoutes(app: FastifyInstance, monitor: LoopDelayMonitor): void {
  app.get(
    "/v1/runtime/event-loop",
    {
      schema: {
        summary: "Event-loop delay of the broker: since start and since the window was last reset",
        tags: ["runtime"],
        response: { 200: Type.Object({ sinceStart: Stats, window: Stats }) },
      },
    },
    async () => monitor.stats(),
  );
  app.post(
    "/v1/runtime/event-loop/reset",
    {
      schema: {
        summary: "End the event-loop delay window (returned) and start a new one",
        tags: ["runtime"],
        response: { 200: Type.Object({ window: Stats }) },
      },
    },
    async () => ({ window: monitor.resetWindow() }),
  );
}
