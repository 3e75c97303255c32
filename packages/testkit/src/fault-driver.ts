/**
 * The kinds of fault the chaos suite injects (docs/design.md §5). Process faults go
 * through a ProviderFaultDriver (processes here, containers with compose);
 * control faults (unbind, channel removal, revoke) go through the admin API.
 */
export type FaultKind =
  | "kill" // SIGKILL: the socket closes, detected in milliseconds
  | "freeze" // SIGSTOP, SIGCONT after a while: only heartbeats reveal it
  | "terminate" // SIGTERM: graceful drain with a deadline
  | "partition" // the network between agent and broker goes silent
  | "reset" // the connection is reset (TCP RST)
  | "unbind_force" // operator: POST /v1/providers/{id}/unbind {mode:"force"}
  | "unbind_drain" // operator: POST /v1/providers/{id}/unbind {mode:"drain"}
  | "channel_remove" // operator: one channel removed; only its leases end
  | "duplicate" // a second agent registers the same provider id (newest wins)
  | "client_kill"; // a load client dies; its leases expire by TTL

export const FAULT_KINDS: readonly FaultKind[] = [
  "kill",
  "freeze",
  "terminate",
  "partition",
  "reset",
  "unbind_force",
  "unbind_drain",
  "channel_remove",
  "duplicate",
  "client_kill",
];

/**
 * Injects faults into provider agents by their provider id. Implemented for
 * local processes (signals + fault proxy / netns) and for `docker compose`
 * (kill -s KILL, pause/unpause, stop, network disconnect/connect).
 */
export interface ProviderFaultDriver {
  readonly name: string;
  /** SIGKILL (compose: `docker compose kill -s KILL <service>`). */
  kill(providerId: string): Promise<void>;
  /** SIGSTOP (compose: `docker compose pause <service>`). */
  freeze(providerId: string): Promise<void>;
  /** SIGCONT (compose: `docker compose unpause <service>`). */
  thaw(providerId: string): Promise<void>;
  /** SIGTERM, graceful (compose: `docker compose stop <service>`). */
  terminate(providerId: string): Promise<void>;
  /** Silences the network path (proxy blackhole, veth down, `docker network disconnect`). Undefined: not supported here. */
  partition?(providerId: string): Promise<void>;
  /** Undoes partition. */
  heal?(providerId: string): Promise<void>;
  /** Brings a killed or terminated provider back (a new incarnation, new epoch). */
  restart(providerId: string): Promise<void>;
  /** Releases whatever the driver holds (processes it started, proxies). */
  close(): Promise<void>;
}
