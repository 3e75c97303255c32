import type { Constraints } from "./descriptor.js";
import { StateMachine } from "./state-machine.js";
import type { LeaseRecord } from "./lease-record.js";
import type { RemovalCause } from "./removal-cause.js";

/**
 * Provider lifecycle (≈ dma_device). `lost` and `removed` are tombstones: the
 * record stays while leases still refer to it and is `freed` with the last one.
 */
export type ProviderState = "online" | "suspect" | "draining" | "lost" | "removed" | "freed";

export const PROVIDER_TRANSITIONS: Readonly<Record<ProviderState, readonly ProviderState[]>> = {
  online: ["suspect", "draining", "lost", "removed"],
  suspect: ["online", "lost", "removed", "draining"],
  draining: ["removed", "lost"],
  lost: ["freed"],
  removed: ["freed"],
  freed: [],
};

/** Whether a provider in `state` (or an admin state string) is present — online, suspect or draining — rather than a tombstone. */
export function isPresentProviderState(state: string): state is "online" | "suspect" | "draining" {
  return state === "online" || state === "suspect" || state === "draining";
}

export type Ordering = "in-order" | "out-of-order";

/** What an agent says about itself when it registers. */
export interface ProviderSpec {
  providerId: string;
  labels: Record<string, string>;
  capabilityMask: number;
  constraints: Constraints;
  ordering: Ordering;
  /** Public providers serve shared leases; private ones exclusive leases only. */
  public: boolean;
  profile: string;
  channels: { queueDepth: number }[];
}

/** How the core talks to a connected agent (implemented over the Attach stream). */
export interface ProviderLink {
  sendWork(batch: { epoch: number; channel: number; items: { workId: number; descriptor: unknown }[] }): void;
  sendTerminate(order: { epoch: number; channel: number; workIds: number[]; token: number }): void;
  sendUnbind(order: { reason: string; force: boolean; deadlineMs: number }): void;
  /** Tells the agent why it is being cut off before `close` (e.g. PROVIDER_ID_CONFLICT when a newer agent took its id). */
  sendRejected?(reason: string, message: string): void;
  /** Ends the stream: the incarnation is fenced. */
  close(reason: string): void;
}

/** One channel (≈ dma_chan) and who holds it. */
export class ChannelRecord {
  exclusive: LeaseRecord | undefined;
  readonly shared = new Set<LeaseRecord>();
  /** Cookies accepted on this channel and not yet terminal. */
  outstanding = 0;
  /** Removed by an operator (single-channel hot-remove): no new leases for this incarnation. */
  removed = false;
  completed = 0;
  failed = 0;

  constructor(
    readonly provider: ProviderRecord,
    readonly index: number,
    readonly queueDepth: number,
  ) {}

  get leaseCount(): number {
    return (this.exclusive ? 1 : 0) + this.shared.size;
  }
}

/** Where a work item sent to the provider belongs. */
export interface WorkRoute {
  lease: LeaseRecord;
  cookie: number;
}

/**
 * One incarnation of a provider: (id, epoch). A new registration of the same
 * id is a new record with a new epoch; the old one is fenced.
 */
export class ProviderRecord {
  readonly machine: StateMachine<ProviderState>;
  readonly channels: ChannelRecord[];
  /** Work sent to the agent and not yet reported: work id → cookie. */
  readonly work = new Map<number, WorkRoute>();
  /** Leases on this incarnation that have not ended. */
  readonly leases = new Set<LeaseRecord>();
  /** Lease records (live or tombstone) that pin this record. */
  refs = 0;
  private nextWorkId = 1;
  lastHeartbeatAt: number;
  endedAt = 0;
  endReason = "";
  /** Set when the incarnation stops being present (lost or removed). */
  removalCause: RemovalCause | undefined;
  link: ProviderLink | undefined;
  /** Set while an operator's drain-unbind runs: the deadline timer that forces removal. */
  drainTimer: unknown;

  constructor(
    readonly spec: ProviderSpec,
    readonly epoch: number,
    readonly registeredAt: number,
    readonly registeredWallMs: number,
    link: ProviderLink,
    onTransition?: (change: { kind: string; from: ProviderState; to: ProviderState }) => void,
  ) {
    this.link = link;
    this.lastHeartbeatAt = registeredAt;
    this.machine = new StateMachine<ProviderState>("provider", "online", PROVIDER_TRANSITIONS, onTransition);
    this.channels = spec.channels.map((c, i) => new ChannelRecord(this, i, c.queueDepth));
  }

  get id(): string {
    return this.spec.providerId;
  }

  get state(): ProviderState {
    return this.machine.state;
  }

  /** Present (online, suspect or draining): not a tombstone. */
  get present(): boolean {
    return isPresentProviderState(this.machine.state);
  }

  allocateWorkId(): number {
    return this.nextWorkId++;
  }
}
