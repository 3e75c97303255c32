import { randomFillSync } from "node:crypto";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Completion, DmaBrokerError, Lease } from "@dmabroker/client";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";
import type { Out } from "./admin-commands.js";
import { createProgress } from "./progress.js";
import { formatBytes } from "./size.js";

/** What `dmactl copy` is asked to do. */
export interface CopyOptions {
  broker: string;
  clientId: string;
  sizeBytes: number;
  chunkBytes: number;
  batch: number;
  /** Batches in flight at once on a lease. */
  depth: number;
  mode: "exclusive" | "shared";
  /** Lease this provider first (relocation may go elsewhere). */
  providerId?: string;
  labels?: Record<string, string>;
  /** Move chunks whose provider went away to another lease and finish there. */
  relocate: boolean;
  /** Most leases a relocating copy may take in all. */
  maxLeases: number;
  timeoutMs: number;
  json: boolean;
}

/** One try of a chunk on one lease. */
export interface ChunkAttempt {
  leaseId: string;
  providerId: string;
  epoch: number;
  /** NOERROR, READ_FAILED, WRITE_FAILED, ABORTED; NOT_SUBMITTED when the lease ended before the chunk could be sent; LOST when no result came. */
  result: string;
  reason: string;
  /** NOERROR and every byte equals the source. */
  verified: boolean;
}

/** What happened to one chunk. */
export interface ChunkFate {
  index: number;
  offset: number;
  length: number;
  attempts: ChunkAttempt[];
}

/** The copy's report (printed as a summary, or whole with --json). */
export interface CopyReport {
  sizeBytes: number;
  chunkBytes: number;
  batch: number;
  relocate: boolean;
  seconds: number;
  /** Verified bytes per second over the whole run. */
  bytesPerSec: number;
  chunks: number;
  verifiedChunks: number;
  /** Chunks that ended without a verified copy. */
  failedChunks: number;
  relocatedChunks: number;
  leases: { leaseId: string; providerId: string; epoch: number; endState: string; endReason: string }[];
  /** Count of chunks by their final outcome (e.g. "NOERROR", "ABORTED PROVIDER_GONE"). */
  outcomes: Record<string, number>;
  interrupted: boolean;
  fates: ChunkFate[];
}

/** Reasons after which the chunk can run elsewhere: its provider (or channel) went away. */
const RELOCATABLE = new Set(["PROVIDER_GONE"]);

const outcomeOf = (a: ChunkAttempt | undefined): string =>
  !a ? "NOT_SUBMITTED" : a.result === "NOERROR" ? (a.verified ? "NOERROR" : "CORRUPT") : `${a.result}${a.reason ? ` ${a.reason}` : ""}`;

/**
 * `dmactl copy`: fills a source buffer with random bytes, copies it chunk by
 * chunk with MEMCPY in batches (several in flight), verifies every output
 * byte, and reports throughput and every chunk's fate. With `relocate`, chunks
 * whose provider vanished (ABORTED / PROVIDER_GONE, or never submitted because
 * the lease ended) are resubmitted on a new lease: first through the SDK's
 * failover option when it has one, and always by dmactl itself, so the copy
 * finishes on another provider.
 */
export async function copy(opts: CopyOptions, io: Out, signal: AbortSignal): Promise<{ exitCode: ExitCode; report: CopyReport }> {
  const chunks = Math.ceil(opts.sizeBytes / opts.chunkBytes);
  const source = Buffer.allocUnsafe(opts.sizeBytes);
  for (let off = 0; off < source.length; off += 64 << 20) randomFillSync(source, off, Math.min(64 << 20, source.length - off));
  const fates: ChunkFate[] = Array.from({ length: chunks }, (_, i) => ({
    index: i,
    offset: i * opts.chunkBytes,
    length: Math.min(opts.chunkBytes, opts.sizeBytes - i * opts.chunkBytes),
    attempts: [],
  }));
  const pending: number[] = fates.map((f) => f.index);
  const leases: CopyReport["leases"] = [];
  const progress = createProgress(opts.sizeBytes, io, opts.json);
  let client: BrokerClient;
  try {
    client = await BrokerClient.connect({
      address: opts.broker,
      clientId: opts.clientId,
      timeoutMs: Math.min(opts.timeoutMs, 5000),
      defaultTimeoutMs: opts.timeoutMs,
    });
  } catch (err) {
    throw new CliError(
      EXIT.UNREACHABLE,
      (err as DmaBrokerError).reason ?? "TRANSPORT_FAILURE",
      `cannot reach the broker at ${opts.broker} (${(err as Error).message}); set --broker or DMABROKER_BROKER`,
    );
  }
  const t0 = performance.now();
  let verifiedBytes = 0;
  try {
    let first = true;
    while (pending.length > 0 && !signal.aborted && leases.length < opts.maxLeases) {
      if (!first && !opts.relocate) break;
      let lease: Lease;
      try {
        lease = await client.requestChannel({
          capabilities: ["memcpy"],
          mode: opts.mode,
          providerId: first ? opts.providerId : undefined,
          labels: opts.labels,
          signal,
          // The SDK's opt-in failover (landing separately): passed through an
          // options object so this compiles before and after it exists.
          ...(opts.relocate ? ({ failover: "relocate" } as object) : {}),
        });
      } catch (err) {
        if (first || signal.aborted) throw err;
        io.err(`cannot relocate: ${(err as DmaBrokerError).reason ?? ""} ${(err as Error).message}`);
        break;
      }
      first = false;
      if (leases.length > 0) io.err(`relocating ${pending.length} chunk(s) to ${lease.providerId} (lease ${lease.id})`);
      const entry = { leaseId: lease.id, providerId: lease.providerId, epoch: lease.epoch, endState: "", endReason: "" };
      leases.push(entry);
      if (opts.chunkBytes > lease.constraints.maxTransferBytes && lease.constraints.maxTransferBytes > 0) {
        await lease.release({ timeoutMs: 2000 }).catch(() => undefined);
        throw new CliError(
          EXIT.USAGE,
          "INVALID_ARGUMENT",
          `--chunk ${opts.chunkBytes} exceeds ${lease.providerId}'s largest transfer (${lease.constraints.maxTransferBytes} bytes)`,
        );
      }
      await runOnLease(lease, opts, fates, pending, source, signal, (bytes) => {
        verifiedBytes += bytes;
        progress.update(verifiedBytes, lease.providerId);
      });
      const ended = lease.isEnded ? { state: lease.state, reason: lease.endReason } : undefined;
      if (!ended) await lease.release({ timeoutMs: 2000 }).catch(() => undefined);
      entry.endState = ended?.state ?? lease.state;
      entry.endReason = ended?.reason ?? lease.endReason;
    }
  } finally {
    client.close();
    progress.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  const outcomes: Record<string, number> = {};
  for (const f of fates) {
    const o = outcomeOf(f.attempts.at(-1));
    outcomes[o] = (outcomes[o] ?? 0) + 1;
  }
  const verifiedChunks = fates.filter((f) => f.attempts.at(-1)?.verified).length;
  const report: CopyReport = {
    sizeBytes: opts.sizeBytes,
    chunkBytes: opts.chunkBytes,
    batch: opts.batch,
    relocate: opts.relocate,
    seconds,
    bytesPerSec: verifiedBytes / seconds,
    chunks,
    verifiedChunks,
    failedChunks: chunks - verifiedChunks,
    relocatedChunks: fates.filter((f) => f.attempts.length > 1 && f.attempts.at(-1)?.verified).length,
    leases,
    outcomes,
    interrupted: signal.aborted,
    fates,
  };
  const exitCode = signal.aborted ? EXIT.INTERRUPTED : verifiedChunks === chunks ? EXIT.OK : EXIT.FAILED;
  return { exitCode, report };
}

/**
 * Submits pending chunks on one lease, `depth` batches in flight, until none
 * are left or the lease ends. Chunks that must move (relocatable failures, or
 * not submitted because the lease ended) go back to `pending` when relocating.
 */
async function runOnLease(
  lease: Lease,
  opts: CopyOptions,
  fates: ChunkFate[],
  pending: number[],
  source: Buffer,
  signal: AbortSignal,
  onVerified: (bytes: number) => void,
): Promise<void> {
  const inflight: Promise<void>[] = [];
  const requeue: number[] = [];
  const attempt = (result: string, reason: string, verified = false, ranOn?: { providerId: string; epoch: number }): ChunkAttempt => ({
    leaseId: lease.id,
    providerId: ranOn?.providerId || lease.providerId,
    epoch: ranOn?.epoch || lease.epoch,
    result,
    reason,
    verified,
  });
  const settle = (index: number, c: Completion): void => {
    const f = fates[index]!; // pending and requeue hold indices into fates
    const ranOn = (c as Completion & { ranOn?: { providerId: string; epoch: number } }).ranOn ?? { providerId: c.providerId, epoch: c.epoch };
    if (c.result === "NOERROR") {
      const ok = c.output !== undefined && c.output.length === f.length && c.output.equals(source.subarray(f.offset, f.offset + f.length));
      f.attempts.push(attempt("NOERROR", ok ? "" : "OUTPUT_MISMATCH", ok, ranOn));
      if (ok) onVerified(f.length);
      return;
    }
    f.attempts.push(attempt(c.result, c.reason, false, ranOn));
    if (opts.relocate && RELOCATABLE.has(c.reason)) requeue.push(index);
  };
  while (pending.length > 0 && !signal.aborted && !lease.isEnded) {
    const batch = pending.splice(0, opts.batch);
    let cookies: number[];
    try {
      cookies = await lease.submit(
        batch.map((i) => {
          const f = fates[i]!;
          return ops.memcpy(source.subarray(f.offset, f.offset + f.length));
        }),
        { timeoutMs: opts.timeoutMs },
      );
    } catch (err) {
      pending.unshift(...batch);
      const reason = (err as DmaBrokerError).reason ?? "INTERNAL";
      if (reason === "QUEUE_FULL" && inflight.length > 0) {
        await inflight.shift();
        continue;
      }
      if (reason === "PROVIDER_SUSPECT") {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      // The lease is over (PROVIDER_GONE, LEASE_REVOKED, ...) or the broker refused: these chunks were never accepted.
      if (!lease.isEnded) throw err;
      break;
    }
    const done = lease.waitForAll(cookies, { timeoutMs: opts.timeoutMs }).then(
      (results) => results.forEach((c, k) => settle(batch[k]!, c)), // one result per cookie, per batch entry
      (err: unknown) => {
        // No result for these cookies: the wait failed (timeout) or the lease ended without delivering them.
        const reason = (err as DmaBrokerError).reason ?? "INTERNAL";
        for (const i of batch) {
          fates[i]!.attempts.push(attempt("LOST", reason));
          if (opts.relocate && (RELOCATABLE.has(reason) || lease.isEnded)) requeue.push(i);
        }
      },
    );
    inflight.push(done);
    if (inflight.length >= opts.depth) await inflight.shift();
  }
  await Promise.all(inflight);
  // Chunks never sent because the lease ended: say so, and move them when relocating.
  if (lease.isEnded && pending.length > 0 && !opts.relocate) {
    for (const i of pending) fates[i]!.attempts.push(attempt("NOT_SUBMITTED", lease.endReason || lease.state.toUpperCase()));
    pending.length = 0;
  }
  pending.unshift(...requeue.sort((a, b) => a - b));
}

/** Groups consecutive chunks with the same story into one line each. */
export function describeFates(fates: ChunkFate[]): string[] {
  const story = (f: ChunkFate): string =>
    f.attempts.length === 0
      ? "NOT_SUBMITTED (copy stopped)"
      : f.attempts
          .map((a) => `${outcomeOf(a)}${a.result === "NOT_SUBMITTED" ? " (lease ended first)" : ""} on ${a.providerId} epoch ${a.epoch} (${a.leaseId})`)
          .join("  →  relocated: ");
  const lines: string[] = [];
  let start = 0;
  for (let i = 1; i <= fates.length; i++) {
    // start < i <= length: fates[start] exists, fates[i] where i < length.
    if (i === fates.length || story(fates[i]!) !== story(fates[start]!)) {
      const range = i - 1 === start ? `${start}` : `${start}-${i - 1}`;
      lines.push(`  chunks ${range.padEnd(9)} ${story(fates[start]!)}`);
      start = i;
    }
  }
  return lines;
}

/** The human summary of a copy. */
export function describeCopy(r: CopyReport): string[] {
  const lines = [
    `copied ${formatBytes(r.verifiedChunks === r.chunks ? r.sizeBytes : r.fates.filter((f) => f.attempts.at(-1)?.verified).reduce((n, f) => n + f.length, 0))} of ${formatBytes(r.sizeBytes)} in ${r.seconds.toFixed(2)} s: ${formatBytes(Math.round(r.bytesPerSec))}/s verified`,
    `chunks: ${r.chunks} of ${formatBytes(r.chunkBytes)}, ${r.verifiedChunks} verified, ${r.failedChunks} not${r.relocatedChunks ? `, ${r.relocatedChunks} relocated` : ""}${r.interrupted ? " (interrupted)" : ""}`,
    `outcomes: ${Object.entries(r.outcomes)
      .map(([k, v]) => `${k} ×${v}`)
      .join(", ")}`,
    "leases:",
    ...r.leases.map((l) => `  ${l.leaseId} on ${l.providerId} epoch ${l.epoch}: ${l.endState}${l.endReason ? ` ${l.endReason}` : ""}`),
    "what happened to every chunk:",
    ...describeFates(r.fates),
  ];
  return lines;
}
