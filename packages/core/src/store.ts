/**
 * The persistence seam: the one write path for everything that must survive
 * a broker restart. Shaped after etcd's lessor (server/lease/lessor.go):
 * granting a lease persists it, revoking deletes it in the same transaction,
 * and recovery rebuilds the tables from what the store returns.
 *
 * The interface is deliberately narrow, asynchronous and transaction-shaped
 * so that an etcd-backed store can implement it later without touching the
 * core: `commit` maps to one etcd `Txn` (puts and deletes under a key
 * prefix), the revision to the txn's header revision, `afterDurable` to the
 * txn's response, and `load` to a range read of the prefix.
 *
 * The core is synchronous: it stages a batch with `commit` and goes on; the
 * store commits every batch of an event-loop turn together (group commit).
 * The services hold back every reply, push and event behind `afterDurable`,
 * so nothing reveals a state whose record is not yet durable. docs/store.md
 * has the format, the recovery rules and how etcd would sit behind this.
 */

/** The tables the broker keeps. */
export type StoreTable = "meta" | "provider" | "lease" | "unbound";
export const STORE_TABLES: readonly StoreTable[] = ["meta", "provider", "lease", "unbound"];

/** One write: `value` present puts the record, absent deletes it. */
export interface StoreOp {
  table: StoreTable;
  key: string;
  value?: unknown;
}

/** Everything the store holds at one revision (what `load` returns). */
export interface StoredState {
  /** The revision of the last committed batch (0: empty store). */
  revision: number;
  tables: Record<StoreTable, Map<string, unknown>>;
}

/** What an operator sees about the store (admin API, dmactl, /metrics). */
export interface StoreInfo {
  kind: "memory" | "file";
  /** Data directory ("" in memory). */
  path: string;
  durability: Durability;
  revision: number;
  /** Bytes on disk (log + snapshot). */
  sizeBytes: number;
  logBytes: number;
  snapshotRevision: number;
  snapshotAtMs: number;
}

/** After Redis' appendfsync: fsync before every reply, once a second, or never (tests). */
export type Durability = "always" | "interval" | "off";
export const DURABILITIES: readonly Durability[] = ["always", "interval", "off"];

export interface BrokerStore {
  /**
   * Stages one batch: its ops become visible together or not at all, after
   * every batch staged before it. Returns the batch's revision. Never throws
   * for I/O: a failed commit stops the broker (the store reports it to its owner).
   */
  commit(ops: StoreOp[]): number;
  /**
   * Calls `fn` once every batch staged so far is durable; at once when none
   * is pending. Calls run in the order they were asked for.
   */
  afterDurable(fn: () => void): void;
  /** The state at the last durable revision (called once, before the core starts). */
  load(): StoredState;
  info(): StoreInfo;
  /** Flushes what is staged and releases the files. */
  close(): Promise<void>;
}

export function emptyState(): StoredState {
  return { revision: 0, tables: { meta: new Map(), provider: new Map(), lease: new Map(), unbound: new Map() } };
}

/** Applies one batch to a state in place (stores and their tests share this). */
export function applyOps(state: StoredState, ops: readonly StoreOp[]): void {
  for (const op of ops) {
    const table = state.tables[op.table];
    if (op.value === undefined) table.delete(op.key);
    else table.set(op.key, op.value);
  }
  state.revision++;
}

/**
 * Records in memory: nothing survives the process (unit tests, and a broker
 * started without a data dir). `firstEpoch` seeds the epoch counter, so a
 * broker without a data dir can still keep epochs monotonic across restarts
 * by seeding it from the wall clock.
 */
export function createMemoryStore(firstEpoch = 1): BrokerStore {
  const state = emptyState();
  if (firstEpoch > 1) state.tables.meta.set("epochs", { reservedUpTo: firstEpoch - 1 });
  return {
    commit(ops) {
      applyOps(state, ops);
      return state.revision;
    },
    afterDurable(fn) {
      fn();
    },
    load: () => state,
    info: () => ({ kind: "memory", path: "", durability: "off", revision: state.revision, sizeBytes: 0, logBytes: 0, snapshotRevision: 0, snapshotAtMs: 0 }),
    close: () => Promise.resolve(),
  };
}
