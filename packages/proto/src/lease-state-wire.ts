import type { LeaseState } from "@dmabroker/core";

const TO_WIRE = {
  active: "LEASE_STATE_ACTIVE",
  suspended: "LEASE_STATE_SUSPENDED",
  released: "LEASE_STATE_RELEASED",
  expired: "LEASE_STATE_EXPIRED",
  revoked: "LEASE_STATE_REVOKED",
  provider_gone: "LEASE_STATE_PROVIDER_GONE",
} as const satisfies Record<LeaseState, string>;

const FROM_WIRE: Readonly<Record<string, LeaseState>> = Object.fromEntries(Object.entries(TO_WIRE).map(([state, name]) => [name, state as LeaseState]));

/** Domain lease state → wire enum name (`dmabroker.v1.LeaseState`). */
export function leaseStateToWire(state: LeaseState): (typeof TO_WIRE)[LeaseState] {
  return TO_WIRE[state];
}

/** Wire enum name → domain lease state; undefined for anything unknown (the caller picks a fallback). */
export function leaseStateFromWire(name: string): LeaseState | undefined {
  return FROM_WIRE[name];
}
