import { transferLength } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import { realChannelClock } from "./channel-clock.js";
import type { ChannelClock } from "./channel-clock.js";
import { MinHeap } from "./min-heap.js";
import { DEFAULT_CHUNK_BYTES, execute, executeSync } from "./operations.js";
import type { OpOutput } from "./operations.js";
import { createRng, randomSeed } from "./rng.js";
import type { Rng } from "./rng.js";

/** Completion order of a channel: like IOAT (`in-order`) or like DSA (`out-of-order`). */
export type Ordering = "in-order" | "out-of-order";

/** Injected device faults: independent probabilities (0..1) per descriptor. */
export interface FaultModel {
  /** Chance a descriptor fails reading its source (READ_FAILED / DEVICE_READ_ERROR). */
  readFailureRate: number;
  /** Chance a descriptor that read fine fails writing (WRITE_FAILED / DEVICE_WRITE_ERROR). */
  writeFailureRate: number;
}

/** How one emulated DMA channel behaves: speed, ordering, faults. */
export interface ChannelModelOptions {
  /** Modelled bytes per second of one engine; 0 = unlimited. */
  bandwidthBytesPerSec: number;
  /** Fixed modelled cost per descriptor, in microseconds. */
  latencyUs: number;
  /** in-order: one pipeline, outcomes in submission order; out-of-order: several engines with jitter. */
  ordering: Ordering;
  faults?: FaultModel;
  /** Seed of the fault and jitter RNG; random (and readable as `channel.seed`) when omitted. */
  seed?: number;
  /** Bytes computed per event-loop turn (default `DEFAULT_CHUNK_BYTES`). */
  chunkBytes?: number;
}

/** Everything a `DmaChannel` is built from. */
export interface DmaChannelOptions<Id> extends ChannelModelOptions {
  /**
   * Receives outcomes in batches (everything that fell due together comes in
   * one call). Never called synchronously from `submit`/`terminate`, never
   * after `close`. Must not throw.
   */
  onComplete: (outcomes: WorkOutcome<Id>[]) => void;
  /** Time source for the modelled latency (default: real timers). */
  clock?: ChannelClock;
}

/** dmaengine_tx_result of one unit of work. */
export type WorkResultKind = "NOERROR" | "READ_FAILED" | "WRITE_FAILED" | "ABORTED";

/** One descriptor handed to a channel, with the caller's id for it. */
export interface WorkUnit<Id> {
  /** The caller's handle (e.g. a work id); echoed in the outcome, matched by `terminate`. */
  id: Id;
  /** Expected valid (core validates at prep); one the kernels cannot run ends ABORTED. */
  descriptor: DmaDescriptor;
}

/**
 * The terminal result of one unit: NOERROR with its output and residue 0, or
 * a failure with residue = transfer length, no output and a reason
 * (DEVICE_READ_ERROR, DEVICE_WRITE_ERROR, or INVALID_DESCRIPTOR with ABORTED
 * for a descriptor the kernels cannot run).
 */
export interface WorkOutcome<Id> extends OpOutput {
  id: Id;
  result: WorkResultKind;
  residue: number;
  reason: string;
}

/** Parallel engines of an out-of-order channel: later small units overtake earlier big ones. */
export const OUT_OF_ORDER_ENGINES = 4;
/** Out-of-order service times are scaled by a seeded factor in [JITTER_MIN, JITTER_MIN + 1). */
const JITTER_MIN = 0.5;
/** Compute budget charged per unit on top of its bytes, so a turn also bounds the unit count. */
const UNIT_OVERHEAD_BYTES = 64;
/** Consumed queue entries kept before the queue array is compacted. */
const COMPACT_AFTER = 1024;

type UnitState = "queued" | "computing" | "ready" | "done";

interface Unit<Id> {
  id: Id;
  d: DmaDescriptor | undefined;
  len: number;
  /** Bytes the kernels touch (len × sources for xor): what a turn's compute budget is charged. */
  work: number;
  seq: number;
  engine: number;
  /** Modelled completion time (clock ms). */
  due: number;
  state: UnitState;
  fault: "READ_FAILED" | "WRITE_FAILED" | undefined;
  out: OpOutput | undefined;
  /** The kernels refused the descriptor. */
  failed: boolean;
  abort: AbortController | undefined;
}

/**
 * The emulation model of one DMA channel. Units are really computed (chunked,
 * so big transfers leave the event loop responsive) and delivered at their
 * modelled completion time: latency + length / bandwidth on one pipeline
 * (in-order: delivery strictly in submission order) or on
 * `OUT_OF_ORDER_ENGINES` engines with seeded jitter (out-of-order). Outcomes
 * falling due together are coalesced into one `onComplete` call.
 */
export class DmaChannel<Id = number> {
  /** The RNG seed in use (log it to replay faults and jitter). */
  readonly seed: number;
  private readonly clock: ChannelClock;
  private readonly onComplete: (outcomes: WorkOutcome<Id>[]) => void;
  private readonly inOrder: boolean;
  private readonly bandwidth: number;
  private readonly latencyMs: number;
  private readonly chunkBytes: number;
  private readonly faults: FaultModel | undefined;
  private readonly faultRng: Rng;
  private readonly jitterRng: Rng;
  /** Modelled time each engine becomes free. */
  private readonly engineFree: number[];
  /** Units in submission order (consumed from `fifoHead`). */
  private fifo: Unit<Id>[] = [];
  private fifoHead = 0;
  /** Units waiting to be computed, in submission order. */
  private computeQ: Unit<Id>[] = [];
  private computeHead = 0;
  /** Out-of-order only: computed units by modelled completion time. */
  private readonly ready = new MinHeap<Unit<Id>>((a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq));
  private live = 0;
  private computing = 0;
  private seq = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: unknown;
  private timerAt = Infinity;
  private readonly drainWaiters = new Set<() => void>();
  private closed = false;

  constructor(options: DmaChannelOptions<Id>) {
    const { bandwidthBytesPerSec, latencyUs, ordering, faults, chunkBytes = DEFAULT_CHUNK_BYTES } = options;
    if (!(bandwidthBytesPerSec >= 0) || !(latencyUs >= 0)) throw new RangeError("bandwidthBytesPerSec and latencyUs must be >= 0");
    if (ordering !== "in-order" && ordering !== "out-of-order") throw new RangeError(`unknown ordering ${JSON.stringify(ordering)}`);
    if (faults && !(faults.readFailureRate >= 0 && faults.readFailureRate <= 1 && faults.writeFailureRate >= 0 && faults.writeFailureRate <= 1)) {
      throw new RangeError("fault rates must be within 0..1");
    }
    this.seed = (options.seed ?? randomSeed()) >>> 0;
    this.clock = options.clock ?? realChannelClock;
    this.onComplete = options.onComplete;
    this.inOrder = ordering === "in-order";
    this.bandwidth = bandwidthBytesPerSec;
    this.latencyMs = latencyUs / 1000;
    this.chunkBytes = Math.max(1, Math.floor(chunkBytes));
    this.faults = faults;
    // Separate streams: turning faults on does not change the jitter sequence.
    this.faultRng = createRng(this.seed);
    this.jitterRng = createRng(this.seed ^ 0x5bd1e995);
    this.engineFree = new Array<number>(this.inOrder ? 1 : OUT_OF_ORDER_ENGINES).fill(-Infinity);
  }

  /** Units submitted and neither completed nor terminated. */
  get outstanding(): number {
    return this.live;
  }

  /** Enqueues units and starts executing them. Throws once the channel is closed. */
  submit(units: readonly WorkUnit<Id>[]): void {
    if (this.closed) throw new Error("DmaChannel is closed");
    const now = this.clock.now();
    for (const { id, descriptor } of units) {
      const [len, work] = measure(descriptor);
      const u: Unit<Id> = {
        id,
        d: descriptor,
        len,
        work,
        seq: this.seq++,
        engine: 0,
        due: 0,
        state: "queued",
        fault: this.drawFault(),
        out: undefined,
        failed: false,
        abort: undefined,
      };
      this.place(u, now);
      this.fifo.push(u);
      this.live++;
      if (u.fault) this.markReady(u);
      else this.computeQ.push(u);
    }
    if (units.length > 0) this.kick();
  }

  /**
   * Drops the given unfinished units (all of them without `ids`): they never
   * produce an outcome, and a computation in progress is abandoned at its
   * next chunk. Returns how many were dropped.
   */
  terminate(ids?: Iterable<Id>): number {
    if (this.closed) return 0;
    const only = ids === undefined ? undefined : new Set(ids);
    let dropped = 0;
    for (let i = this.fifoHead; i < this.fifo.length; i++) {
      const u = this.fifo[i]!; // i < length
      if (u.state === "done" || (only !== undefined && !only.has(u.id))) continue;
      this.drop(u);
      dropped++;
    }
    if (dropped > 0) {
      this.replan();
      if (this.live === 0) this.settleDrains();
      this.kick(); // in-order: units behind a dropped head may be due now
    }
    return dropped;
  }

  /** Resolves true once nothing is outstanding, false after `timeoutMs` (on the channel clock). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.live === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (ok: boolean): void => {
        this.drainWaiters.delete(waiter);
        this.clock.clearTimeout(timer);
        resolve(ok);
      };
      const waiter = (): void => settle(true);
      const timer = this.clock.setTimeout(() => settle(false), timeoutMs);
      this.drainWaiters.add(waiter);
    });
  }

  /** Drops everything and cancels every timer; pending `drain`s resolve true. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (let i = this.fifoHead; i < this.fifo.length; i++) if (this.fifo[i]!.state !== "done") this.drop(this.fifo[i]!);
    this.closed = true;
    this.fifo = [];
    this.fifoHead = 0;
    this.computeQ = [];
    this.computeHead = 0;
    this.ready.clear();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.arm(Infinity, 0);
    this.settleDrains();
  }

  private drawFault(): Unit<Id>["fault"] {
    if (this.faults === undefined) return undefined;
    const read = this.faultRng();
    const write = this.faultRng(); // always drawn: one unit = two draws, whatever the outcome
    if (read < this.faults.readFailureRate) return "READ_FAILED";
    return write < this.faults.writeFailureRate ? "WRITE_FAILED" : undefined;
  }

  /** Assigns the unit to the engine free first and models its completion time. */
  private place(u: Unit<Id>, now: number): void {
    const free = this.engineFree;
    // free has one slot per engine (at least one); k and i stay below its length.
    let k = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[k]!) k = i;
    let service = this.latencyMs + (this.bandwidth > 0 ? (u.len * 1000) / this.bandwidth : 0);
    if (!this.inOrder) service *= JITTER_MIN + this.jitterRng();
    u.engine = k;
    u.due = Math.max(now, free[k]!) + service;
    free[k] = u.due;
  }

  /** After a terminate: an engine is busy only until its last remaining unit's completion. */
  private replan(): void {
    this.engineFree.fill(-Infinity);
    for (let i = this.fifoHead; i < this.fifo.length; i++) {
      const u = this.fifo[i]!; // i < length; u.engine indexes engineFree (set by place)
      if (u.state !== "done" && u.due > this.engineFree[u.engine]!) this.engineFree[u.engine] = u.due;
    }
  }

  private drop(u: Unit<Id>): void {
    if (u.state === "computing") u.abort?.abort();
    u.state = "done";
    u.d = u.out = u.abort = undefined;
    this.live--;
  }

  private kick(): void {
    if (this.immediate === undefined && !this.closed) this.immediate = setImmediate(this.tick);
  }

  /** One event-loop turn: compute up to `chunkBytes` of queued work, then deliver what is due. */
  private readonly tick = (): void => {
    this.immediate = undefined;
    if (this.closed) return;
    const q = this.computeQ;
    let budget = this.chunkBytes;
    while (this.computeHead < q.length) {
      const u = q[this.computeHead]!; // computeHead < length
      if (u.state !== "queued") {
        this.computeHead++;
      } else if (budget <= 0) {
        this.kick();
        break;
      } else if (u.work <= this.chunkBytes) {
        this.computeHead++;
        budget -= u.work + UNIT_OVERHEAD_BYTES;
        try {
          u.out = executeSync(u.d!);
        } catch {
          u.failed = true;
        }
        this.markReady(u);
      } else if (this.computing < this.engineFree.length) {
        this.computeHead++;
        budget = 0; // execute() runs its first chunk right away
        this.startAsync(u);
      } else {
        break; // every engine holds a big transfer; the next to finish kicks again
      }
    }
    this.computeHead = compact(q, this.computeHead);
    this.flush();
  };

  private startAsync(u: Unit<Id>): void {
    u.state = "computing";
    const abort = (u.abort = new AbortController());
    this.computing++;
    const done = (out: OpOutput | undefined): void => {
      this.computing--;
      if (u.state !== "computing" || this.closed) return; // terminated or closed meanwhile
      u.abort = undefined;
      u.out = out;
      u.failed = out === undefined;
      this.markReady(u);
      this.kick();
    };
    execute(u.d!, { chunkBytes: this.chunkBytes, signal: abort.signal }).then(done, () => done(undefined));
  }

  private markReady(u: Unit<Id>): void {
    u.state = "ready";
    if (!this.inOrder) this.ready.push(u);
  }

  /** Delivers every computed unit whose modelled time has come, in one onComplete call. */
  private flush(): void {
    const now = this.clock.now();
    const outcomes: WorkOutcome<Id>[] = [];
    let next = Infinity;
    const f = this.fifo;
    if (this.inOrder) {
      for (; this.fifoHead < f.length; this.fifoHead++) {
        const u = f[this.fifoHead]!; // fifoHead < length
        if (u.state === "done") continue;
        if (u.state !== "ready") break;
        if (u.due > now) {
          next = u.due;
          break;
        }
        outcomes.push(this.complete(u));
      }
    } else {
      for (let u = this.ready.peek(); u !== undefined; u = this.ready.peek()) {
        if (u.state === "ready" && u.due > now) {
          next = u.due;
          break;
        }
        this.ready.pop();
        if (u.state === "ready") outcomes.push(this.complete(u));
      }
      while (this.fifoHead < f.length && f[this.fifoHead]!.state === "done") this.fifoHead++;
    }
    this.fifoHead = compact(f, this.fifoHead);
    this.arm(next, now);
    if (this.live === 0) this.settleDrains();
    if (outcomes.length > 0) this.onComplete(outcomes);
  }

  private complete(u: Unit<Id>): WorkOutcome<Id> {
    const { id, len, fault, out, failed } = u;
    u.state = "done";
    u.d = u.out = undefined;
    this.live--;
    if (fault !== undefined) {
      return { id, result: fault, residue: len, reason: fault === "READ_FAILED" ? "DEVICE_READ_ERROR" : "DEVICE_WRITE_ERROR" };
    }
    if (failed) return { id, result: "ABORTED", residue: len, reason: "INVALID_DESCRIPTOR" };
    return { id, result: "NOERROR", residue: 0, reason: "", ...out }; // spread last: V8 fast path
  }

  /** Keeps one timer, set for the earliest modelled completion still ahead (Infinity = none). */
  private arm(at: number, now: number): void {
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, Math.ceil(at - now)));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (!this.closed) this.flush();
  };

  private settleDrains(): void {
    for (const waiter of this.drainWaiters) waiter();
  }
}

/**
 * [transfer length, bytes the kernels touch]. Never throws: a malformed
 * descriptor measures 0 and later fails in the kernels (ABORTED), so every
 * submitted unit still gets exactly one outcome.
 */
function measure(d: DmaDescriptor): [number, number] {
  try {
    const len = transferLength(d);
    const sources = d.op === "xor" ? d.xor!.sources.length : d.op === "xorValidate" ? d.xorValidate!.sources.length : d.op === "compare" ? 2 : 1;
    return [len, len * Math.max(1, sources)];
  } catch {
    return [0, 0];
  }
}

/** Drops consumed entries [0, head) from a queue array once they dominate it; returns the new head. */
function compact<T>(q: T[], head: number): number {
  if (head === 0) return 0;
  if (head === q.length) {
    q.length = 0;
    return 0;
  }
  if (head >= COMPACT_AFTER && head * 2 >= q.length) {
    q.splice(0, head);
    return 0;
  }
  return head;
}
