import type { BrokerStore } from "./store.js";
import { ProviderRecord } from "./provider-record.js";
import type { ProviderLink, ProviderSpec, ProviderState } from "./provider-record.js";

/** One past (or the present) incarnation of a provider id. */
export interface IncarnationHistory {
  epoch: number;
  registeredAtMs: number;
  /** 0 while present. */
  endedAtMs: number;
  endState: string;
  endReason: string;
}

/** Incarnations remembered per id, and ids remembered (ids without a present incarnation are forgotten first). */
const MAX_HISTORY_PER_ID = 16;
const MAX_HISTORY_IDS = 10_000;

/**
 * Every provider incarnation the broker knows: the present one per id, and
 * the tombstones (lost or removed incarnations) that leases still pin. A
 * tombstone is freed when its last reference drops.
 */
export class ProviderRegistry {
  private readonly byId = new Map<string, ProviderRecord>();
  private readonly tombstones = new Set<ProviderRecord>();
  /** Ids an operator unbound (like sysfs unbind): refused at registration until bound again. */
  private readonly unbound = new Map<string, { atWallMs: number; reason: string }>();
  /** The last incarnations of each id (bounded), for operators. */
  private readonly histories = new Map<string, IncarnationHistory[]>();

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
    this.remember(record, wallNow);
    return record;
  }

  /** Marks an id unbound: it may not register again until `bind`. */
  markUnbound(id: string, atWallMs: number, reason: string): void {
    this.unbound.set(id, { atWallMs, reason });
  }

  /** Allows an unbound id to register again; false when it was not unbound. */
  bind(id: string): boolean {
    return this.unbound.delete(id);
  }

  /** Why and when an id was unbound, if it is. */
  unboundInfo(id: string): { atWallMs: number; reason: string } | undefined {
    return this.unbound.get(id);
  }

  /** The last incarnations of an id, newest last. */
  history(id: string): readonly IncarnationHistory[] {
    return this.histories.get(id) ?? [];
  }

  private remember(p: ProviderRecord, wallNow: number): void {
    let list = this.histories.get(p.id);
    if (!list) {
      if (this.histories.size >= MAX_HISTORY_IDS) {
        for (const id of this.histories.keys()) {
          if (!this.byId.has(id)) {
            this.histories.delete(id);
            break;
          }
        }
      }
      this.histories.set(p.id, (list = []));
    }
    list.push({ epoch: p.epoch, registeredAtMs: wallNow, endedAtMs: 0, endState: "", endReason: "" });
    if (list.length > MAX_HISTORY_PER_ID) list.shift();
  }

  /** Moves a provider that just stopped being present into the tombstones (or frees it). */
  retire(p: ProviderRecord, wallNow = 0): void {
    const entry = this.histories.get(p.id)?.find((h) => h.epoch === p.epoch);
    if (entry) {
      entry.endedAtMs = wallNow;
      entry.endState = p.state;
      entry.endReason = p.endReason;
    }
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
