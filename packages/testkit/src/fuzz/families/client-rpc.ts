import fc from "fast-check";
import type { CaseContext, CaseFamily, ClientMethod } from "../case-context.js";
import { CLIENT_METHODS, methodPath } from "../case-context.js";
import { encode } from "../codec.js";
import { LeaseWatch } from "../lease-watch.js";
import { RawConnection } from "../raw-connection.js";
import { judgeGrpcError } from "../verdict.js";
import { anyRequest, leaseRef } from "./client-requests.js";
import type { LeaseRef } from "./client-requests.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The client ids cases act as (a small pool, so per-client quotas and rate limits come into play). */
export const clientIdOf = (c: CaseContext, k: number): string => `fz-c-${(c.index + k) % 8}`;

/**
 * Leases what a case's request names: its own live lease, another client's,
 * a released one, or none (a made-up id stays as generated).
 */
export async function resolveLeaseRef(c: CaseContext, ref: LeaseRef, owner: string): Promise<string | undefined> {
  if (ref === "made-up") return undefined;
  const holder = ref === "foreign" ? `${owner}-other` : owner;
  const lease = await c.lease(holder, { capabilityMask: 2, mode: 2 });
  if (!lease) return undefined;
  if (ref === "released") await c.call("Release", holder, { leaseId: lease.leaseId });
  return lease.leaseId;
}

/** Sends one request as encoded bytes and judges the answer (a stream is read briefly, then cancelled). */
export async function sendRequest(
  c: CaseContext,
  method: ClientMethod,
  bytes: Buffer,
  clientId: string | undefined,
  md = RawConnection.metadata(clientId),
): Promise<void> {
  if (method !== "WatchLease") {
    await c.raw(method, bytes, md);
    return;
  }
  const stream = c.conn().serverStream(methodPath("WatchLease"), bytes, md, 10_000);
  let cancelled = false;
  const ended = new Promise<void>((resolve) => {
    stream.on("data", () => c.ok("WatchLease event"));
    stream.on("error", (err) => {
      const v = judgeGrpcError(err, { ownCancel: cancelled });
      c.note({ ...v, label: `WatchLease ${v.label}` });
      resolve();
    });
    stream.on("end", () => resolve());
  });
  await Promise.race([ended, sleep(20)]);
  cancelled = true;
  stream.cancel();
  await ended;
}

interface Input {
  call: { method: ClientMethod; request: object };
  ref: LeaseRef;
}

/** Every client RPC with a schema-valid request of hostile values, naming own, foreign, ended or made-up leases. */
export const clientRpcFamily: CaseFamily<Input> = {
  name: "rpc.valid",
  weight: 30,
  arbitrary: fc.record({ call: anyRequest, ref: leaseRef }),
  async run({ call, ref }, c) {
    const owner = clientIdOf(c, 0);
    const request: Record<string, unknown> = { ...call.request };
    if ("leaseId" in request) {
      const id = await resolveLeaseRef(c, ref, owner);
      if (id !== undefined) request.leaseId = id;
    }
    if (call.method === "WatchLease") {
      const watch = new LeaseWatch(c, c.conn(), owner, String(request.leaseId), { afterCookie: request.afterCookie as string });
      await Promise.race([watch.ended, sleep(20)]);
      watch.cancel();
      await watch.ended;
      return;
    }
    await sendRequest(c, call.method, encode(CLIENT_METHODS[call.method].request, request), owner);
  },
};
