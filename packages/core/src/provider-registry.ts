import type { BrokerStore } from "./store.js";
import { ProviderRecord } from "./provider-record.js";
import type { ProviderLink, ProviderSpec, ProviderState } from "./provider-record.js";

/**
 * Every provider incarnation the broker knows: the present one per id, and
 * the tombstones (lost or removed incarnations) that leases still pin. A
 * tombstone is freed when its last reference drops.
 */
export class ProviderRegistry {
  private readonly byId = new Map<string, ProviderRecord>();
  private readonly tombstones = new Set<ProviderRecord>();

  constructor(
    private readonly store: BrokerStore,
    private readonly onFreed: (p: ProviderRecord) => void,
  ) {}

  /** The newest incarnation of an id, present or not. */
  get(id: string): ProviderRecord | undefined {
    return this.byId.get(id);
  }

  /** Present providers (online, suspect, draining). */
  present(): IterableIterator<ProviderRecord> {
    return this.byId.values();
  }

  /** Present providers followed by tombstones still referenced. */
  all(): ProviderRecord[] {
    return [...this.byId.values(), ...this.tombstones];
  }

  get presentCount(): number {
    return this.byId.size;
  }

  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** Creates a new incarnation with a fresh epoch (the caller fences any present one first). */
  create(
    spec: ProviderSpec,
    link: ProviderLink,
    now: number,
    wallNow: number,
    onTransition: (change: { kind: string; from: ProviderState; to: ProviderState }, p: ProviderRecord) => void,
  ): ProviderRecord {
    const epoch = this.store.nextEpoch();
    const record: ProviderRecord = new ProviderRecord(spec, epoch, now, wallNow, link, (change) => onTransition(change, record));
    this.byId.set(spec.providerId, record);
    return record;
  }

  /** Moves a provider that just stopped being present into the tombstones (or frees it). */
  retire(p: ProviderRecord): void {
    if (this.byId.get(p.id) === p) this.byId.delete(p.id);
    this.tombstones.add(p);
    this.maybeFree(p);
  }

  /** Drops one reference; frees a tombstone whose last reference this was. */
  unref(p: ProviderRecord): void {
    p.refs--;
    this.maybeFree(p);
  }

  private maybeFree(p: ProviderRecord): void {
    if (p.present || p.refs > 0 || !this.tombstones.has(p)) return;
    this.tombstones.delete(p);
    p.machine.transition("freed");
    this.onFreed(p);
  }
}
