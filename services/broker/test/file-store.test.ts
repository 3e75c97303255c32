import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DmaError } from "@dmabroker/core";
import type { StoreOp, StoredState } from "@dmabroker/core";
import { FileStore, recoverDir } from "../src/store/index.js";

// Crash consistency of the embedded store: whatever a crash (or a damaged
// disk) leaves in the data dir, recovery yields the state after some prefix
// of the committed batches — every acknowledged one included when only
// unacknowledged bytes were lost — or refuses with STORE_CORRUPT. Never a
// state that no prefix of the history had.

const root = mkdtempSync(join(tmpdir(), "dmabroker-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
};

/** mulberry32: deterministic, printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random batch over a small key space, so puts overwrite and deletes hit. */
function randomBatch(next: () => number): StoreOp[] {
  const ops: StoreOp[] = [];
  const n = 1 + Math.floor(next() * 4);
  for (let i = 0; i < n; i++) {
    const table = (["lease", "provider", "unbound", "meta"] as const)[Math.floor(next() * 4)];
    const key = `k${Math.floor(next() * 12)}`;
    ops.push(next() < 0.3 ? { table, key } : { table, key, value: { n: Math.floor(next() * 1e6), pad: "x".repeat(Math.floor(next() * 40)) } });
  }
  return ops;
}

/** A state as a comparable string. */
function fingerprint(state: StoredState): string {
  const t = state.tables;
  return JSON.stringify(
    Object.keys(t)
      .sort()
      .map((name) => [name, [...t[name as keyof typeof t]].sort(([a], [b]) => (a < b ? -1 : 1))]),
  );
}

/** Applies ops to a model state (the reference the store is checked against). */
function apply(model: Map<string, unknown>[], ops: StoreOp[]): Map<string, unknown>[] {
  const next = model.map((m) => new Map(m));
  const idx = { meta: 0, provider: 1, lease: 2, unbound: 3 } as const;
  for (const op of ops) {
    if (op.value === undefined) next[idx[op.table]].delete(op.key);
    else next[idx[op.table]].set(op.key, op.value);
  }
  return next;
}
const modelFingerprint = (m: Map<string, unknown>[], revision: number): string =>
  fingerprint({ revision, tables: { meta: m[0], provider: m[1], lease: m[2], unbound: m[3] } });

/** Writes `batches` batches through a FileStore and returns the fingerprint after each revision (index = revision). */
async function writeHistory(dir: string, seed: number, batches: number, compactLogBytes = 64 * 1024 * 1024): Promise<string[]> {
  const next = rng(seed);
  const store = await FileStore.open({
    dir,
    durability: "off",
    compactLogBytes,
    onFatal: (e) => {
      throw e;
    },
  });
  let model = [new Map(), new Map(), new Map(), new Map()] as Map<string, unknown>[];
  const prints = [modelFingerprint(model, 0)];
  for (let i = 0; i < batches; i++) {
    const ops = randomBatch(next);
    store.commit(ops);
    model = apply(model, ops);
    prints.push(modelFingerprint(model, i + 1));
    if (next() < 0.3) await new Promise<void>((r) => store.afterDurable(r));
  }
  await store.close();
  return prints;
}

/** Frame boundaries of a log file (byte offsets where each record starts, plus the end). */
function frameOffsets(buf: Buffer): number[] {
  const out = [0];
  let off = 0;
  while (off < buf.length) {
    off += 8 + buf.readUInt32LE(off);
    out.push(off);
  }
  return out;
}

/** Recovers a copy of `dir` after `damage`; returns the recovered revision, or "refused" for STORE_CORRUPT. */
function recoverCopy(dir: string, damage: (copy: string) => void, prints: string[]): number | "refused" {
  const copy = scratch;
  for (const name of readdirSync(copy)) rmSync(join(copy, name));
  for (const name of readdirSync(dir)) copyFileSync(join(dir, name), join(copy, name));
  damage(copy);
  try {
    const { state } = recoverDir(copy);
    expect(fingerprint(state), `revision ${state.revision} must be a state of the history`).toBe(prints[state.revision]);
    return state.revision;
  } catch (err) {
    if (err instanceof DmaError && err.reason === "STORE_CORRUPT") return "refused";
    throw err;
  }
}

/** One scratch dir, reused: each damage case is recovered from a fresh copy in it. */
const scratch = freshDir();
const logOf = (dir: string): string =>
  join(
    dir,
    readdirSync(dir).find((n) => n.endsWith(".wal"))!,
  );

describe("the file store's recovery", () => {
  it("truncated at every byte offset of the last 20 records: the valid prefix, exactly", async () => {
    const seed = 1301;
    const dir = freshDir();
    const prints = await writeHistory(dir, seed, 80);
    const log = logOf(dir);
    const buf = readFileSync(log);
    const frames = frameOffsets(buf);
    expect(frames.length - 1).toBe(80);
    const from = frames[frames.length - 21];
    let checked = 0;
    for (let cut = from; cut <= buf.length; cut++) {
      const complete = frames.filter((f) => f <= cut).length - 1;
      // Only the log differs between cases: rewrite it in the scratch dir.
      for (const name of readdirSync(scratch)) rmSync(join(scratch, name));
      writeFileSync(join(scratch, basename(log)), buf.subarray(0, cut));
      const { state } = recoverDir(scratch);
      expect(state.revision, `seed ${seed}, cut at byte ${cut}`).toBe(complete);
      if (cut % 7 === 0 || state.revision !== prints.length - 1) expect(fingerprint(state)).toBe(prints[complete]);
      checked++;
    }
    console.log(`truncation: ${checked} offsets over the last 20 records, each recovered to its complete prefix`);
  });

  it("truncated at random points, bits flipped, garbage appended: a state of the history or STORE_CORRUPT", async () => {
    const seed = Number(process.env.DMABROKER_STORE_SEED ?? 4242);
    console.log(`store damage seed ${seed} (DMABROKER_STORE_SEED to replay)`);
    const next = rng(seed);
    const dir = freshDir();
    const prints = await writeHistory(dir, seed, 120);
    const size = statSync(logOf(dir)).size;
    const outcomes = { prefix: 0, full: 0, refused: 0 };
    const count = (r: number | "refused"): void => {
      if (r === "refused") outcomes.refused++;
      else if (r === 120) outcomes.full++;
      else outcomes.prefix++;
    };
    for (let i = 0; i < 150; i++) count(recoverCopy(dir, (c) => truncateSync(logOf(c), Math.floor(next() * size)), prints));
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(next() * size);
      const bit = 1 << Math.floor(next() * 8);
      count(
        recoverCopy(
          dir,
          (c) => {
            const b = readFileSync(logOf(c));
            b[at] ^= bit;
            writeFileSync(logOf(c), b);
          },
          prints,
        ),
      );
    }
    for (let i = 0; i < 150; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
      const got = recoverCopy(dir, (c) => appendFileSync(logOf(c), junk), prints);
      // Bytes after the last record are never taken for history: the full history, or a refusal.
      expect(got === 120 || got === "refused").toBe(true);
      count(got);
    }
    console.log(`damage outcomes over 600 cases: ${JSON.stringify(outcomes)}`);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.prefix).toBeGreaterThan(0);
  });

  it("refuses a damaged snapshot with STORE_CORRUPT", async () => {
    const dir = freshDir();
    const prints = await writeHistory(dir, 77, 400, 2048);
    const snap = readdirSync(dir).find((n) => n.endsWith(".snap"))!;
    expect(snap).toBeDefined();
    const size = statSync(join(dir, snap)).size;
    expect(recoverCopy(dir, () => undefined, prints)).toBe(400);
    for (const cut of [0, 5, Math.floor(size / 2), size - 1]) expect(recoverCopy(dir, (c) => truncateSync(join(c, snap), cut), prints)).toBe("refused");
    for (const at of [3, 30, Math.floor(size / 2), size - 2]) {
      expect(
        recoverCopy(
          dir,
          (c) => {
            const b = readFileSync(join(c, snap));
            b[at] ^= 0x10;
            writeFileSync(join(c, snap), b);
          },
          prints,
        ),
      ).toBe("refused");
    }
  });

  it("stops at a failed write: STORE_WRITE_FAILED once, and nothing staged after it is acknowledged", async () => {
    const dir = freshDir();
    const fatal: DmaError[] = [];
    const store = await FileStore.open({ dir, durability: "always", onFatal: (e) => fatal.push(e) });
    store.commit([{ table: "lease", key: "a", value: 1 }]);
    await new Promise<void>((r) => store.afterDurable(r));
    // A real I/O error: the log's descriptor is closed under the store, so its next write fails (EBADF).
    await (store as unknown as { log: { close(): Promise<void> } }).log.close();
    store.commit([{ table: "lease", key: "b", value: 2 }]);
    let acknowledged = false;
    store.afterDurable(() => (acknowledged = true));
    for (let i = 0; i < 100 && fatal.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fatal.map((e) => e.reason)).toEqual(["STORE_WRITE_FAILED"]);
    expect(fatal[0].message).toContain(dir);
    store.commit([{ table: "lease", key: "c", value: 3 }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(acknowledged).toBe(false);
    expect(fatal).toHaveLength(1);
    expect(recoverDir(dir).state.revision).toBe(1);
  });

  it("survives restart cycles with every acknowledged batch and bounded disk", async () => {
    const cycles = Number(process.env.DMABROKER_RESTART_CYCLES ?? 2000);
    const seed = Number(process.env.DMABROKER_STORE_SEED ?? 9001);
    console.log(`restart cycles: ${cycles} (DMABROKER_RESTART_CYCLES), seed ${seed}`);
    const next = rng(seed);
    const dir = freshDir();
    const compactLogBytes = 8 * 1024;
    let model = [new Map(), new Map(), new Map(), new Map()] as Map<string, unknown>[];
    const prints = [modelFingerprint(model, 0)];
    let maxDisk = 0;
    let snapshots = 0;
    const started = performance.now();
    for (let cycle = 0; cycle < cycles; cycle++) {
      const store = await FileStore.open({
        dir,
        durability: "off",
        compactLogBytes,
        onFatal: (e) => {
          throw e;
        },
      });
      const recovered = store.load();
      // Recovery lands on a state of the history at or after everything acknowledged.
      expect(fingerprint(recovered), `cycle ${cycle}`).toBe(prints[recovered.revision]);
      prints.length = recovered.revision + 1;
      model = modelFromState(recovered);
      const acked = { revision: recovered.revision };
      const n = 1 + Math.floor(next() * 6);
      for (let i = 0; i < n; i++) {
        const ops = randomBatch(next);
        const rev = store.commit(ops);
        model = apply(model, ops);
        prints.push(modelFingerprint(model, rev));
        if (next() < 0.5) {
          await new Promise<void>((r) => store.afterDurable(r));
          acked.revision = rev;
        }
      }
      const before = store.info().snapshotRevision;
      await store.abandon();
      // A crash may also tear the unacknowledged tail.
      if (next() < 0.3) {
        const log = logOf(dir);
        const size = statSync(log).size;
        const cut = Math.floor(next() * (size + 1));
        const ackedBytes = ackedLength(readFileSync(log), acked.revision);
        if (cut >= ackedBytes) truncateSync(log, cut);
      }
      const disk = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
      maxDisk = Math.max(maxDisk, disk);
      const reopened = recoverDir(dir);
      expect(reopened.state.revision, `cycle ${cycle}: acknowledged revision ${acked.revision} lost`).toBeGreaterThanOrEqual(acked.revision);
      if (store.info().snapshotRevision !== before) snapshots++;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`restart cycles: ${cycles} in ${seconds.toFixed(1)} s, ${snapshots} snapshots, peak disk ${maxDisk} bytes`);
    // Bounded: the log is compacted past 8 KiB, the snapshot holds ≤ 48 small keys.
    expect(maxDisk).toBeLessThan(64 * 1024);
  }, 120_000);
});

function modelFromState(state: StoredState): Map<string, unknown>[] {
  const t = state.tables;
  return [new Map(t.meta), new Map(t.provider), new Map(t.lease), new Map(t.unbound)];
}

/** Byte length of the log up to and including the record of `revision` (0 if it is not in this log). */
function ackedLength(buf: Buffer, revision: number): number {
  let off = 0;
  let end = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (off + 8 + len > buf.length) break;
    const r = (JSON.parse(buf.subarray(off + 8, off + 8 + len).toString()) as { r: number }).r;
    off += 8 + len;
    if (r <= revision) end = off;
  }
  return end;
}
