import type { LeaseRecord } from "./lease-record.js";

/**
 * Live leases by id and per owner, and a bounded set of tombstones (ended
 * leases, oldest first) so late calls get the real reason instead of NOT_FOUND.
 */
export class LeaseTable {
  private readonly live = new Map<string, LeaseRecord>();
  private readonly tombstones = new Map<string, LeaseRecord>();
  private readonly perOwner = new Map<string, number>();

  constructor(
    private readonly maxTombstones: number,
    private readonly tombstoneTtlMs: number,
    private readonly onDropped: (lease: LeaseRecord) => void,
  ) {}

  get liveCount(): number {
    return this.live.size;
  }

  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  ownerCount(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  get(id: string): LeaseRecord | undefined {
    return this.live.get(id) ?? this.tombstones.get(id);
  }

  liveLeases(): IterableIterator<LeaseRecord> {
    return this.live.values();
  }

  all(): LeaseRecord[] {
    return [...this.live.values(), ...this.tombstones.values()];
  }

  add(lease: LeaseRecord): void {
    this.live.set(lease.id, lease);
    this.perOwner.set(lease.owner, this.ownerCount(lease.owner) + 1);
  }

  /** Moves an ended lease to the tombstones, evicting the oldest beyond the bound. */
  entomb(lease: LeaseRecord): void {
    if (!this.live.delete(lease.id)) return;
    const left = this.ownerCount(lease.owner) - 1;
    if (left > 0) this.perOwner.set(lease.owner, left);
    else this.perOwner.delete(lease.owner);
    this.tombstones.set(lease.id, lease);
    while (this.tombstones.size > this.maxTombstones) this.dropOldest();
  }

  /** Drops tombstones older than the TTL (called from the broker's sweep). */
  pruneTombstones(now: number): void {
    for (const lease of this.tombstones.values()) {
      if (now - lease.endedAt < this.tombstoneTtlMs) break;
      this.dropOldest();
    }
  }

  /** Drops every tombstone (shutdown and tests). */
  clearTombstones(): void {
    while (this.tombstones.size > 0) this.dropOldest();
  }

  private dropOldest(): void {
    const first = this.tombstones.values().next();
    if (first.done) return;
    this.tombstones.delete(first.value.id);
    this.onDropped(first.value);
  }
}
