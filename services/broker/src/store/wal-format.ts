import { crc32 } from "node:zlib";
import { DmaError, STORE_TABLES } from "@dmabroker/core";
import type { StoreOp, StoreTable } from "@dmabroker/core";

/**
 * The on-disk framing of the broker's store. One frame per batch:
 *
 *   u32 LE payload length | u32 LE CRC-32 of (length bytes + payload) | payload (UTF-8 JSON)
 *
 * A log file `log-<rev>.wal` holds the batches after revision <rev>, in
 * order, each payload `{"r": revision, "o": [[table, key, value?], ...]}`.
 * A snapshot `snapshot-<rev>.snap` is the magic line and one frame holding
 * every table at <rev>.
 */

export const FRAME_HEADER_BYTES = 8;
/** Largest payload a frame may claim: anything bigger is corruption, not a record. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
export const SNAPSHOT_MAGIC = Buffer.from("DMABROKER-SNAPSHOT-1\n", "latin1");

const pad = (rev: number): string => String(rev).padStart(16, "0");
export const logName = (afterRev: number): string => `log-${pad(afterRev)}.wal`;
export const snapshotName = (rev: number): string => `snapshot-${pad(rev)}.snap`;
export const parseLogName = (name: string): number | undefined => (/^log-(\d{16})\.wal$/.exec(name) ? Number(name.slice(4, 20)) : undefined);
export const parseSnapshotName = (name: string): number | undefined => (/^snapshot-(\d{16})\.snap$/.exec(name) ? Number(name.slice(9, 25)) : undefined);

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(crc32(payload, crc32(frame.subarray(0, 4))), 4);
  return frame;
}

/** A batch as a log frame. */
export function encodeBatch(revision: number, ops: readonly StoreOp[]): Buffer {
  const o = ops.map((op) => (op.value === undefined ? [op.table, op.key] : [op.table, op.key, op.value]));
  return encodeFrame(Buffer.from(JSON.stringify({ r: revision, o }), "utf8"));
}

export type FrameRead =
  | { kind: "frame"; payload: Buffer; next: number }
  /** The bytes end inside this frame, or it fails its checksum and nothing follows it: a write the crash cut short. */
  | { kind: "torn" }
  /** It fails its checksum and more bytes follow: damage inside the history. */
  | { kind: "corrupt"; why: string };

/** Reads the frame at `offset` of `buf`. */
export function readFrame(buf: Buffer, offset: number): FrameRead {
  if (offset + FRAME_HEADER_BYTES > buf.length) return { kind: "torn" };
  const length = buf.readUInt32LE(offset);
  const end = offset + FRAME_HEADER_BYTES + length;
  if (length > MAX_FRAME_BYTES || end > buf.length) return { kind: "torn" };
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
  const want = buf.readUInt32LE(offset + 4);
  if (crc32(payload, crc32(buf.subarray(offset, offset + 4))) !== want) {
    return end === buf.length ? { kind: "torn" } : { kind: "corrupt", why: `checksum mismatch in the frame at byte ${offset}` };
  }
  return { kind: "frame", payload, next: end };
}

/** A decoded log batch; throws STORE_CORRUPT when the payload is not one (it passed its checksum, so this is not a torn write). */
export function decodeBatch(payload: Buffer, where: string): { revision: number; ops: StoreOp[] } {
  let parsed: { r?: unknown; o?: unknown };
  try {
    parsed = JSON.parse(payload.toString("utf8")) as typeof parsed;
  } catch (err) {
    throw corrupt(`${where}: a frame that passed its checksum is not JSON (${(err as Error).message})`);
  }
  if (!Number.isSafeInteger(parsed.r) || !Array.isArray(parsed.o)) throw corrupt(`${where}: a frame is not a batch`);
  const ops: StoreOp[] = [];
  for (const entry of parsed.o as unknown[]) {
    if (!Array.isArray(entry) || !isTable(entry[0]) || typeof entry[1] !== "string") throw corrupt(`${where}: a batch holds a malformed op`);
    ops.push(entry.length > 2 ? { table: entry[0], key: entry[1], value: entry[2] } : { table: entry[0], key: entry[1] });
  }
  return { revision: parsed.r as number, ops };
}

const TABLES = new Set<string>(STORE_TABLES);
const isTable = (t: unknown): t is StoreTable => typeof t === "string" && TABLES.has(t);

export function corrupt(message: string): DmaError {
  return new DmaError("STORE_CORRUPT", message);
}
