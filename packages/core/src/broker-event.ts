import type { LeaseMode, LeaseState } from "./lease-record.js";
import type { ProviderState } from "./provider-record.js";
import type { RemovalCause } from "./removal-cause.js";

/** How an operator unbinds a provider (REST `POST /v1/providers/{id}/unbind`). */
export type UnbindMode = "polite" | "drain" | "force";

/**
 * Every registry and lease change the core makes, with the ids a person greps
 * for. Services log them (pino), count them (metrics) and stream them (admin).
 */
export type BrokerEvent =
  | { type: "provider.registered"; providerId: string; epoch: number; profile: string; channels: number }
  | {
      type: "provider.state";
      providerId: string;
      epoch: number;
      from: ProviderState;
      to: ProviderState;
      reason: string;
      /** Present exactly when `to` is lost or removed. */
      cause?: RemovalCause;
    }
  | { type: "provider.fenced"; providerId: string; epoch: number }
  | { type: "provider.freed"; providerId: string; epoch: number }
  | { type: "provider.unbound"; providerId: string; epoch: number; mode: UnbindMode; leases: number; unfinished: number }
  | { type: "provider.bound"; providerId: string }
  | { type: "channel.removed"; providerId: string; epoch: number; channel: number; leases: number }
  | { type: "provider.stale_results"; providerId: string; epoch: number; count: number }
  | { type: "lease.granted"; leaseId: string; clientId: string; providerId: string; epoch: number; channel: number; mode: LeaseMode }
  /** A live lease suspended (its provider is suspect) or resumed; `reason` is PROVIDER_SUSPECT on suspension, empty on resumption. */
  | { type: "lease.state"; leaseId: string; clientId: string; providerId: string; epoch: number; from: LeaseState; to: "active" | "suspended"; reason: string }
  | {
      type: "lease.ended";
      leaseId: string;
      clientId: string;
      providerId: string;
      epoch: number;
      state: LeaseState;
      reason: string;
      detail: string;
      aborted: number;
    };
