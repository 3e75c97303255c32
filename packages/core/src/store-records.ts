import type { LeaseMode, LeaseRecord } from "./lease-record.js";
import type { ProviderRecord, ProviderSpec } from "./provider-record.js";
import type { BrokerStore, StoreOp } from "./store.js";

/**
 * The records the broker persists, and the one writer the core mutates them
 * through. What is kept: present provider incarnations (spec, epoch, removed
 * channels), the epoch reservation, live leases (owner, provider, epoch,
 * channel, mode, TTL, cookie reservation) and unbound ids. What is not:
 * heartbeat times and online/suspect (every recovered provider starts
 * suspect), lease expiry times (recovered leases get a fresh TTL), tombstones
 * of ended leases and providers, and cookies and their results (the data
 * plane: a cookie unfinished at a restart ends BROKER_RESTARTED).
 */

/** Epochs are reserved this many at a time: one write per block, never reused after a restart. */
export const EPOCH_BLOCK = 1024;
/** Cookies are reserved per lease this many at a time (at least), for the same reason. */
export const COOKIE_BLOCK = 65_536;

export interface EpochRow {
  /** Every epoch up to this one may have been handed out. */
  reservedUpTo: number;
}

export interface ProviderRow {
  epoch: number;
  spec: ProviderSpec;
  registeredWallMs: number;
  removedChannels: number[];
}

export interface LeaseRow {
  owner: string;
  providerId: string;
  epoch: number;
  channel: number;
  mode: LeaseMode;
  ttlMs: number;
  /** Every cookie up to this one may have been handed out. */
  cookiesUpTo: number;
}

export interface UnboundRow {
  atWallMs: number;
  reason: string;
}

export function providerRow(p: ProviderRecord): ProviderRow {
  return {
    epoch: p.epoch,
    spec: p.spec,
    registeredWallMs: p.registeredWallMs,
    removedChannels: p.channels.filter((c) => c.removed).map((c) => c.index),
  };
}

export function leaseRow(lease: LeaseRecord): LeaseRow {
  return {
    owner: lease.owner,
    providerId: lease.provider.id,
    epoch: lease.provider.epoch,
    channel: lease.channel.index,
    mode: lease.mode,
    ttlMs: lease.ttlMs,
    cookiesUpTo: lease.cookiesReservedUpTo,
  };
}

/**
 * Stages the core's record changes as store batches. Changes made inside
 * `transaction` commit as one batch (a provider's removal deletes it and
 * every lease on it together); outside, each change is its own batch.
 */
export class StoreWriter {
  private open: StoreOp[] | undefined;
  private epochNext = 1;
  private epochReservedUpTo = 0;
  private frozen = false;

  constructor(readonly store: BrokerStore) {}

  /**
   * Stops writing (the broker is shutting down): what the process does while
   * it goes — streams closing, providers lost — is not the records' truth, so a
   * graceful restart recovers the same state a SIGKILL would.
   */
  freeze(): void {
    this.frozen = true;
  }

  /** Restores the epoch counter: the next epoch is past everything ever reserved. */
  recoverEpochs(row: EpochRow | undefined): void {
    this.epochReservedUpTo = row?.reservedUpTo ?? 0;
    this.epochNext = this.epochReservedUpTo + 1;
  }

  /** Runs `fn` with every change it stages committed as one batch. */
  transaction<T>(fn: () => T): T {
    if (this.open) return fn();
    const ops: StoreOp[] = [];
    this.open = ops;
    try {
      return fn();
    } finally {
      this.open = undefined;
      if (ops.length > 0) this.store.commit(ops);
    }
  }

  /** A provider epoch never handed out before, across restarts too. */
  nextEpoch(): number {
    const epoch = this.epochNext++;
    if (epoch > this.epochReservedUpTo) {
      this.epochReservedUpTo = epoch + EPOCH_BLOCK - 1;
      this.stage({ table: "meta", key: "epochs", value: { reservedUpTo: this.epochReservedUpTo } satisfies EpochRow });
    }
    return epoch;
  }

  putProvider(p: ProviderRecord): void {
    this.stage({ table: "provider", key: p.id, value: providerRow(p) });
  }

  deleteProvider(p: ProviderRecord): void {
    this.stage({ table: "provider", key: p.id });
  }

  putLease(lease: LeaseRecord): void {
    this.stage({ table: "lease", key: lease.id, value: leaseRow(lease) });
  }

  deleteLease(lease: LeaseRecord): void {
    this.stage({ table: "lease", key: lease.id });
  }

  putUnbound(id: string, row: UnboundRow): void {
    this.stage({ table: "unbound", key: id, value: row });
  }

  deleteUnbound(id: string): void {
    this.stage({ table: "unbound", key: id });
  }

  private stage(op: StoreOp): void {
    if (this.frozen) return;
    if (this.open) this.open.push(op);
    else this.store.commit([op]);
  }
}
