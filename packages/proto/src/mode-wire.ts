import type { LeaseMode, Ordering } from "@dmabroker/core";

// Lease mode and channel ordering: domain value <-> wire enum name (dmabroker.v1.LeaseMode / Ordering).

const MODE_TO_WIRE = {
  exclusive: "LEASE_MODE_EXCLUSIVE",
  shared: "LEASE_MODE_SHARED",
} as const satisfies Record<LeaseMode, string>;

const ORDERING_TO_WIRE = {
  "in-order": "ORDERING_IN_ORDER",
  "out-of-order": "ORDERING_OUT_OF_ORDER",
} as const satisfies Record<Ordering, string>;

const invert = <K extends string>(table: Record<K, string>): Readonly<Record<string, K>> =>
  Object.fromEntries(Object.entries<string>(table).map(([domain, wire]) => [wire, domain as K]));
const MODE_FROM_WIRE = invert(MODE_TO_WIRE);
const ORDERING_FROM_WIRE = invert(ORDERING_TO_WIRE);

export function leaseModeToWire(mode: LeaseMode): (typeof MODE_TO_WIRE)[LeaseMode] {
  return MODE_TO_WIRE[mode];
}

/** Undefined for UNSPECIFIED or anything unknown (the caller refuses or picks a fallback). */
export function leaseModeFromWire(name: string | number): LeaseMode | undefined {
  return MODE_FROM_WIRE[name];
}

export function orderingToWire(ordering: Ordering): (typeof ORDERING_TO_WIRE)[Ordering] {
  return ORDERING_TO_WIRE[ordering];
}

/** Undefined for UNSPECIFIED or anything unknown (the caller picks a fallback). */
export function orderingFromWire(name: string | number): Ordering | undefined {
  return ORDERING_FROM_WIRE[name];
}
