import type { DmaDescriptor } from "@dmabroker/core";
import { execute } from "@dmabroker/engine";
import type { Completion } from "./completion.js";

/**
 * Runs one descriptor on this process's CPU with `@dmabroker/engine` (chunked:
 * it yields to the event loop every 256 KiB, so timers and streams keep
 * running) and returns its NOERROR completion, marked `ranOn: { kind: "cpu" }`.
 * Rejects with the signal's reason when aborted, or when the engine cannot run
 * the descriptor.
 */
export async function cpuCompletion(cookie: number, descriptor: DmaDescriptor, signal?: AbortSignal): Promise<Completion> {
  const o = await execute(descriptor, { signal });
  return {
    cookie,
    status: "COMPLETE",
    result: "NOERROR",
    residue: 0,
    reason: "",
    // The same shape as a provider's result read off the wire.
    output: o.output && o.output.length > 0 ? o.output : undefined,
    checksum: o.checksum ?? 0,
    match: o.match ?? false,
    mismatchOffset: o.mismatchOffset ?? 0,
    providerId: "",
    epoch: 0,
    ranOn: { kind: "cpu" },
  };
}
