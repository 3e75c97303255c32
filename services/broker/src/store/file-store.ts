import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { lockDataDir } from "./dir-lock.js";
import type { DirLock } from "./dir-lock.js";
import { DmaError, applyOps, emptyState } from "@dmabroker/core";
import type { BrokerStore, Durability, StoreInfo, StoreOp, StoreTable, StoredState } from "@dmabroker/core";
import {
  SNAPSHOT_MAGIC,
  corrupt,
  decodeBatch,
  encodeBatch,
  encodeFrame,
  logName,
  parseLogName,
  parseSnapshotName,
  readFrame,
  snapshotName,
} from "./wal-format.js";

/** What one group commit did (for /metrics). */
export interface FlushStats {
  batches: number;
  bytes: number;
  /** Seconds the fdatasync took (0 when none ran). */
  syncSeconds: number;
}

export interface FileStoreOptions {
  dir: string;
  durability: Durability;
  /** `interval`: how often the log is fdatasync'ed. */
  syncIntervalMs?: number;
  /** Write a snapshot and start a new log once the log passes this many bytes (and the last snapshot's size). */
  compactLogBytes?: number;
  /** A write or fsync failed: the store has stopped and will acknowledge nothing more. */
  onFatal: (error: DmaError) => void;
  onFlush?: (stats: FlushStats) => void;
}

interface Pending {
  revision: number;
  ops: StoreOp[];
  frame: Buffer;
}

interface Waiter {
  revision: number;
  fn: () => void;
}

/**
 * The embedded default store: an append-only log of batches plus a
 * snapshot, in one directory. Group commit: every batch staged in one
 * event-loop turn goes out in one write and one fdatasync, both on libuv's
 * thread pool (never on the event loop). A batch is acknowledged
 * (`afterDurable`) once written, and in mode `always` once fdatasync'ed too.
 * When the log grows past the bound, the tables are written as a snapshot
 * (temp file, fdatasync, rename, directory fsync) and older files deleted,
 * which keeps the disk bounded.
 *
 * Recovery (`open`) reads the newest snapshot and replays the logs after it.
 * A frame cut short at the very end of the last log is a write the crash
 * interrupted: it is cut off and the store opens at the valid prefix. Any
 * other damage (a bad checksum with history after it, a gap in revisions, a
 * bad snapshot) refuses to open with STORE_CORRUPT: never a half state.
 */
export class FileStore implements BrokerStore {
  private readonly state: StoredState;
  private stagedRevision: number;
  private durableRevision: number;
  private pending: Pending[] = [];
  private readonly waiters: Waiter[] = [];
  private waiterHead = 0;
  private flushScheduled = false;
  private flushing: Promise<void> | undefined;
  private log: FileHandle | undefined;
  private logFile: string;
  private logBytes: number;
  private snapshotRevision: number;
  private snapshotAtMs: number;
  private snapshotBytes: number;
  private failed: DmaError | undefined;
  private closed = false;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private lock: DirLock | undefined;
  private readonly compactLogBytes: number;

  private constructor(
    private readonly opts: FileStoreOptions,
    recovered: { state: StoredState; logFile: string; logBytes: number; snapshotRevision: number; snapshotAtMs: number; snapshotBytes: number },
  ) {
    this.state = recovered.state;
    this.stagedRevision = this.durableRevision = recovered.state.revision;
    this.logFile = recovered.logFile;
    this.logBytes = recovered.logBytes;
    this.snapshotRevision = recovered.snapshotRevision;
    this.snapshotAtMs = recovered.snapshotAtMs;
    this.snapshotBytes = recovered.snapshotBytes;
    this.compactLogBytes = opts.compactLogBytes ?? 16 * 1024 * 1024;
  }

  /** Recovers the directory (creating it when absent) and opens the log for appending. */
  static async open(opts: FileStoreOptions): Promise<FileStore> {
    mkdirSync(opts.dir, { recursive: true });
    // One broker per data dir (STORE_LOCKED otherwise), before anything is read or repaired.
    const lock = lockDataDir(opts.dir);
    let store: FileStore;
    let created: boolean;
    try {
      const recovered = recoverDir(opts.dir);
      created = recovered.created;
      store = new FileStore(opts, recovered);
      store.lock = lock;
      store.log = await open(join(opts.dir, recovered.logFile), "a");
    } catch (err) {
      lock.release();
      throw err;
    }
    if (created) fsyncDir(opts.dir);
    if (opts.durability === "interval") {
      store.syncTimer = setInterval(() => store.syncNow(), opts.syncIntervalMs ?? 1000);
      store.syncTimer.unref();
    }
    return store;
  }

  load(): StoredState {
    return this.state;
  }

  commit(ops: StoreOp[]): number {
    const revision = ++this.stagedRevision;
    this.pending.push({ revision, ops, frame: encodeBatch(revision, ops) });
    this.scheduleFlush();
    return revision;
  }

  afterDurable(fn: () => void): void {
    if (this.durableRevision === this.stagedRevision && this.waiterHead === this.waiters.length) {
      fn();
      return;
    }
    this.waiters.push({ revision: this.stagedRevision, fn });
  }

  info(): StoreInfo {
    return {
      kind: "file",
      path: this.opts.dir,
      durability: this.opts.durability,
      revision: this.durableRevision,
      sizeBytes: this.logBytes + this.snapshotBytes,
      logBytes: this.logBytes,
      snapshotRevision: this.snapshotRevision,
      snapshotAtMs: this.snapshotAtMs,
    };
  }

  /** Flushes what is staged, syncs, and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    while (this.flushing) await this.flushing;
    if (!this.failed && this.pending.length > 0) {
      this.flushing = this.flush();
      await this.flushing;
      this.flushing = undefined;
    }
    const log = this.log;
    this.log = undefined;
    if (log) {
      if (!this.failed && this.unsynced) await log.datasync().catch(() => undefined);
      await log.close().catch(() => undefined);
    }
    this.lock?.release();
  }

  /**
   * What a SIGKILL leaves: the flush in progress finishes (its bytes were
   * handed to the kernel), everything staged after it is dropped, the file is
   * closed without a final fsync. For crash tests in one process.
   */
  async abandon(): Promise<void> {
    this.closed = true;
    clearInterval(this.syncTimer);
    this.pending = [];
    while (this.flushing) await this.flushing;
    this.failed ??= new DmaError("SHUTTING_DOWN", "abandoned");
    const log = this.log;
    this.log = undefined;
    await log?.close();
    // A dead process's lock stays behind; the next open takes it over as stale (its pid is ours here).
  }

  /** Writes a snapshot now (tests and operators); resolves when it is durable. */
  async snapshot(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.compact();
    await this.flushing;
    this.flushing = undefined;
    if (this.pending.length > 0) this.scheduleFlush();
  }

  // ------------------------------------------------------------------ internal

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.failed) return;
    this.flushScheduled = true;
    // After this turn's I/O callbacks: everything staged in the turn is one group commit.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.flushing || this.failed) return;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) this.scheduleFlush();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    const last = batch.at(-1);
    if (!last || !this.log) return;
    this.pending = [];
    const data = batch.length === 1 ? last.frame : Buffer.concat(batch.map((p) => p.frame));
    let syncSeconds = 0;
    try {
      await writeAll(this.log, data);
      this.logBytes += data.length;
      if (this.opts.durability === "always") {
        const t0 = process.hrtime.bigint();
        await this.log.datasync();
        syncSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      } else {
        this.unsynced = true;
      }
    } catch (err) {
      this.fail(`writing ${data.length} bytes to ${join(this.opts.dir, this.logFile)}`, err);
      return;
    }
    for (const p of batch) applyOps(this.state, p.ops);
    this.durableRevision = last.revision;
    this.opts.onFlush?.({ batches: batch.length, bytes: data.length, syncSeconds });
    this.release();
    if (this.logBytes > Math.max(this.compactLogBytes, this.snapshotBytes) && !this.closed) await this.compact();
  }

  /** Runs the waiters of every durable revision, in order. */
  private release(): void {
    const w = this.waiters;
    for (let next = w[this.waiterHead]; next && next.revision <= this.durableRevision; next = w[this.waiterHead]) {
      this.waiterHead++;
      const { fn } = next;
      try {
        fn();
      } catch {
        // A reply to a peer that went away: never stops the others.
      }
    }
    if (this.waiterHead === w.length) {
      w.length = 0;
      this.waiterHead = 0;
    } else if (this.waiterHead > 1024 && this.waiterHead * 2 > w.length) {
      w.splice(0, this.waiterHead);
      this.waiterHead = 0;
    }
  }

  /**
   * Snapshot at the durable revision, then a new log for what follows, then
   * the old files go. Runs between flushes (nothing else writes meanwhile).
   */
  private async compact(): Promise<void> {
    if (this.failed || !this.log) return;
    const revision = this.durableRevision;
    if (revision === this.snapshotRevision) return;
    const dir = this.opts.dir;
    const atMs = Date.now();
    const tables: Record<string, [string, unknown][]> = {};
    for (const [name, table] of Object.entries(this.state.tables)) tables[name] = [...table];
    const body = encodeFrame(Buffer.from(JSON.stringify({ revision, atMs, tables }), "utf8"));
    const tmp = join(dir, `${snapshotName(revision)}.tmp`);
    try {
      // New records go to a new log first: the old log ends exactly at `revision`.
      const newLog = logName(revision);
      const handle = await open(join(dir, newLog), "a");
      fsyncDir(dir);
      const oldLog = this.log;
      if (this.unsynced) await oldLog.datasync();
      this.log = handle;
      this.logFile = newLog;
      this.logBytes = 0;
      await oldLog.close();
      const snap = await open(tmp, "w");
      try {
        await writeAll(snap, Buffer.concat([SNAPSHOT_MAGIC, body]));
        await snap.datasync();
      } finally {
        await snap.close();
      }
      await rename(tmp, join(dir, snapshotName(revision)));
      fsyncDir(dir);
    } catch (err) {
      this.fail(`writing the snapshot at revision ${revision} in ${dir}`, err);
      return;
    }
    this.snapshotRevision = revision;
    this.snapshotAtMs = atMs;
    this.snapshotBytes = SNAPSHOT_MAGIC.length + body.length;
    // The snapshot covers everything before it: older snapshots and logs go (a failure here only leaves garbage).
    for (const name of readdirSync(dir)) {
      const snapRev = parseSnapshotName(name);
      const logRev = parseLogName(name);
      if ((snapRev !== undefined && snapRev < revision) || (logRev !== undefined && logRev < revision)) await unlink(join(dir, name)).catch(() => undefined);
    }
  }

  private syncNow(): void {
    if (!this.unsynced || !this.log || this.failed || this.opts.durability === "off") return;
    this.unsynced = false;
    const t0 = process.hrtime.bigint();
    this.log.datasync().then(
      () => this.opts.onFlush?.({ batches: 0, bytes: 0, syncSeconds: Number(process.hrtime.bigint() - t0) / 1e9 }),
      (err: unknown) => this.fail(`fdatasync of ${join(this.opts.dir, this.logFile)}`, err),
    );
  }

  private fail(what: string, err: unknown): void {
    if (this.failed) return;
    this.failed = new DmaError(
      "STORE_WRITE_FAILED",
      `${what} failed: ${(err as Error).message}; nothing staged since revision ${this.durableRevision} is acknowledged`,
    );
    this.opts.onFatal(this.failed);
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await handle.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

function fsyncDir(dir: string): void {
  // Makes a create or rename durable. Runs once per new file (rare): a short synchronous call is fine.
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a directory back to the state it holds; see FileStore for the rules. */
export function recoverDir(dir: string): {
  state: StoredState;
  logFile: string;
  logBytes: number;
  snapshotRevision: number;
  snapshotAtMs: number;
  snapshotBytes: number;
  created: boolean;
} {
  const names = readdirSync(dir);
  for (const name of names) if (name.endsWith(".tmp")) unlinkSync(join(dir, name));
  const snapshots = names
    .map(parseSnapshotName)
    .filter((r): r is number => r !== undefined)
    .sort((a, b) => a - b);
  const logs = names
    .map(parseLogName)
    .filter((r): r is number => r !== undefined)
    .sort((a, b) => a - b);
  let state = emptyState();
  let snapshotAtMs = 0;
  let snapshotBytes = 0;
  const snapshotRevision = snapshots.at(-1) ?? 0;
  if (snapshots.length > 0) {
    const file = join(dir, snapshotName(snapshotRevision));
    const buf = readFileSync(file);
    snapshotBytes = buf.length;
    ({ state, atMs: snapshotAtMs } = readSnapshot(buf, file, snapshotRevision));
  }
  // Logs that start at or after the snapshot's revision, plus the one it falls inside.
  let first = 0;
  logs.forEach((rev, i) => {
    if (rev <= snapshotRevision) first = i;
  });
  const replay = logs.slice(first);
  const lastLog = replay.at(-1);
  if (replay[0] !== undefined && replay[0] > snapshotRevision) {
    throw corrupt(`${dir}: the log after revision ${snapshotRevision} is missing (first log starts after ${replay[0]})`);
  }
  if (lastLog === undefined) {
    // A new directory, or a snapshot whose next log was never created: start that log.
    const logFile = logName(snapshotRevision);
    return { state, logFile, logBytes: 0, snapshotRevision, snapshotAtMs, snapshotBytes, created: true };
  }
  let logBytes = 0;
  for (const [i, start] of replay.entries()) {
    const file = join(dir, logName(start));
    const last = i === replay.length - 1;
    const buf = readFileSync(file);
    let offset = 0;
    let expected = start + 1;
    if (start > state.revision) throw corrupt(`${file}: starts after revision ${start} but the history so far ends at ${state.revision}`);
    for (;;) {
      if (offset === buf.length) break;
      const frame = readFrame(buf, offset);
      if (frame.kind === "corrupt") throw corrupt(`${file}: ${frame.why}`);
      if (frame.kind === "torn") {
        if (!last) throw corrupt(`${file}: ends inside a record at byte ${offset}, but later logs exist`);
        // The write the crash cut short: it was never acknowledged. Cut it off so appends follow valid frames.
        truncateSync(file, offset);
        break;
      }
      const { revision, ops } = decodeBatch(frame.payload, file);
      if (revision !== expected) throw corrupt(`${file}: record at byte ${offset} has revision ${revision}, expected ${expected}`);
      expected++;
      if (revision > state.revision) applyOps(state, ops);
      offset = frame.next;
    }
    if (last) logBytes = statSync(file).size;
  }
  return { state, logFile: logName(lastLog), logBytes, snapshotRevision, snapshotAtMs, snapshotBytes, created: false };
}

function readSnapshot(buf: Buffer, file: string, revision: number): { state: StoredState; atMs: number } {
  if (buf.length < SNAPSHOT_MAGIC.length || !buf.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw corrupt(`${file}: not a dmabroker snapshot`);
  const frame = readFrame(buf, SNAPSHOT_MAGIC.length);
  if (frame.kind !== "frame" || frame.next !== buf.length)
    throw corrupt(`${file}: the snapshot is damaged (${frame.kind === "corrupt" ? frame.why : "incomplete"})`);
  let parsed: { revision?: unknown; atMs?: unknown; tables?: Record<string, [string, unknown][]> };
  try {
    parsed = JSON.parse(frame.payload.toString("utf8")) as typeof parsed;
  } catch {
    throw corrupt(`${file}: the snapshot is not JSON`);
  }
  if (parsed.revision !== revision || typeof parsed.tables !== "object" || parsed.tables === null)
    throw corrupt(`${file}: the snapshot does not hold revision ${revision}`);
  const state = emptyState();
  state.revision = revision;
  for (const [name, rows] of Object.entries(parsed.tables)) {
    const table = state.tables[name as StoreTable] as Map<string, unknown> | undefined;
    if (!table || !Array.isArray(rows)) throw corrupt(`${file}: unknown table ${name}`);
    for (const [k, v] of rows) table.set(k, v);
  }
  return { state, atMs: typeof parsed.atMs === "number" ? parsed.atMs : 0 };
}
