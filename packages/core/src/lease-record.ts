import { CookieLedger } from "./cookie-ledger.js";
import type { LedgerLimits } from "./cookie-ledger.js";
import type { CompletionRecord } from "./completion.js";
import { StateMachine } from "./state-machine.js";
import type { ChannelRecord, ProviderRecord } from "./provider-record.js";

/** Lease lifecycle (≈ a dma_request_chan reference). */
export type LeaseState = "active" | "suspended" | "released" | "expired" | "revoked" | "provider_gone";

/** Whether a lease in `state` (or a lease's wire/admin state string) is live: active or suspended, not ended. */
export function isLiveLeaseState(state: string): state is "active" | "suspended" {
  return state === "active" || state === "suspended";
}

export const LEASE_TRANSITIONS: Readonly<Record<LeaseState, readonly LeaseState[]>> = {
  active: ["suspended", "released", "expired", "revoked", "provider_gone"],
  suspended: ["active", "released", "expired", "revoked", "provider_gone"],
  released: [],
  expired: [],
  revoked: [],
  provider_gone: [],
};

export type LeaseMode = "exclusive" | "shared";

/** The reason every later call on an ended lease gets. */
export const END_REASON: Readonly<Record<Exclude<LeaseState, "active" | "suspended">, "LEASE_RELEASED" | "LEASE_EXPIRED" | "LEASE_REVOKED" | "PROVIDER_GONE">> =
  {
    released: "LEASE_RELEASED",
    expired: "LEASE_EXPIRED",
    revoked: "LEASE_REVOKED",
    provider_gone: "PROVIDER_GONE",
  };

/** A lease state change as watchers see it. */
export interface LeaseStateChange {
  state: LeaseState;
  reason: string;
  atWallMs: number;
  /**
   * Cookies up to this one were handed out by an earlier broker process and
   * their outcome died with it (a restart); 0 when none. Sent with a watch's
   * first state so the client can end the ones it still waits for.
   */
  restartFloor?: number;
}

/** Receives a lease's completions and state changes (a WatchLease stream). */
export interface LeaseObserver {
  /**
   * Results to send. Call `sent` with the records once they have really been
   * sent (flushed to the client, not merely queued): their outputs are
   * retained until then, so a watch that breaks first loses nothing.
   */
  onCompletions(records: CompletionRecord[], sent: (records: readonly CompletionRecord[]) => void): void;
  /** After a terminal state the observer is detached; it should end its stream. */
  onState(change: LeaseStateChange): void;
}

/** What a new lease is made of. */
export interface LeaseRecordOptions {
  id: string;
  /** The client id that holds it. */
  owner: string;
  provider: ProviderRecord;
  channel: ChannelRecord;
  mode: LeaseMode;
  ttlMs: number;
  /** Monotonic and wall-clock time of the grant (the expiry counts from them). */
  now: number;
  wallNow: number;
  ledgerLimits: LedgerLimits;
  onTransition?: (change: { kind: string; from: LeaseState; to: LeaseState }) => void;
}

/**
 * A lease: pins the broker's records of a provider incarnation (never the
 * provider itself). When it ends, it stays as a tombstone (no ledger) so late
 * calls learn the real reason.
 */
export class LeaseRecord {
  readonly machine: StateMachine<LeaseState>;
  ledger: CookieLedger | undefined;
  readonly observers = new Set<LeaseObserver>();
  expiresAt: number;
  expiresAtWallMs: number;
  endedAt = 0;
  endedAtWallMs = 0;
  endReason = "";
  /** Why it ended, for people (error messages and logs); `endReason` is the machine-readable part. */
  endDetail = "";
  expiryTimer: unknown;
  /** Cookies up to this one are reserved in the store (a restart never hands them out again). */
  cookiesReservedUpTo = 0;
  /** Terminate orders sent and not yet acknowledged: token → resolve. */
  readonly pendingTerminates = new Map<number, () => void>();

  readonly id: string;
  readonly owner: string;
  readonly provider: ProviderRecord;
  readonly channel: ChannelRecord;
  readonly mode: LeaseMode;
  readonly ttlMs: number;

  constructor(o: LeaseRecordOptions) {
    this.id = o.id;
    this.owner = o.owner;
    this.provider = o.provider;
    this.channel = o.channel;
    this.mode = o.mode;
    this.ttlMs = o.ttlMs;
    this.machine = new StateMachine<LeaseState>("lease", "active", LEASE_TRANSITIONS, o.onTransition);
    this.ledger = new CookieLedger(o.ledgerLimits);
    this.expiresAt = o.now + o.ttlMs;
    this.expiresAtWallMs = o.wallNow + o.ttlMs;
  }

  get state(): LeaseState {
    return this.machine.state;
  }

  get ended(): boolean {
    return !isLiveLeaseState(this.machine.state);
  }

  get epoch(): number {
    return this.provider.epoch;
  }
}
