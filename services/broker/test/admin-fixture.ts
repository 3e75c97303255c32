/**
 * An admin app over a real BrokerCore on a ManualClock, with in-memory
 * ProviderLinks standing in for agents (the core's only I/O seam; a real agent
 * needs a gRPC stream, which the integration tests cover). Requests go through
 * fastify's `inject`, so the whole HTTP stack (validation, auth, serialisation)
 * runs without a socket.
 */
import { BrokerCore, ManualClock, capabilityMask } from "@dmabroker/core";
import type { BrokerOptions, DmaDescriptor, OperationName, ProviderSpec } from "@dmabroker/core";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { EventHub, createAdminApp, createBrokerMetrics } from "../src/admin/index.js";
import type { BrokerMetrics } from "../src/admin/index.js";

export { FakeLink } from "@dmabroker/testkit";

export function spec(providerId: string, over: Partial<ProviderSpec> & { ops?: OperationName[] } = {}): ProviderSpec {
  const { ops, ...rest } = over;
  return {
    providerId,
    labels: { zone: "a" },
    capabilityMask: capabilityMask(ops ?? ["memcpy", "fill"]),
    constraints: { maxTransferBytes: 1 << 20, alignment: 1, maxXorSources: 8 },
    ordering: "in-order",
    public: true,
    profile: "ioat",
    channels: [{ queueDepth: 16 }, { queueDepth: 16 }],
    ...rest,
  };
}

export interface AdminFixture {
  core: BrokerCore;
  clock: ManualClock;
  hub: EventHub;
  metrics: BrokerMetrics;
  app: FastifyInstance;
  ready: { value: boolean };
}

export async function adminFixture(options: { adminToken?: string; broker?: BrokerOptions } = {}): Promise<AdminFixture> {
  const clock = new ManualClock();
  const hub = new EventHub(64);
  let n = 0;
  const core = new BrokerCore({ clock, options: options.broker, onEvent: (e) => hub.publish(e), newLeaseId: () => `lease-${++n}` });
  const metrics = createBrokerMetrics(core, clock, { processMetrics: false });
  hub.subscribe(({ event }) => metrics.observe(event));
  const ready = { value: true };
  const app = await createAdminApp({ core, logger: pino({ level: "silent" }), hub, metrics, isReady: () => ready.value, adminToken: options.adminToken });
  await app.ready();
  return { core, clock, hub, metrics, app, ready };
}

/** The memcpy descriptor the core accepts. */
export const memcpy = (bytes: number): DmaDescriptor => ({ op: "memcpy", memcpy: { src: new Uint8Array(bytes) } });
