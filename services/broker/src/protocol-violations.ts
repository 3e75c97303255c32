/**
 * Kinds of peer misbehaviour the broker counts (exported as
 * `dmabroker_protocol_violations_total{kind}`; core counts the result-level
 * ones itself: unknown work ids, stale epochs, invalid results).
 */
export type ViolationKind =
  /** A message over its method's byte limit (refused before decoding). */
  | "oversize"
  /** A count or length inside a message over its limit (refused before decoding). */
  | "over_limit"
  /** Bytes that are not a valid encoding of the method's message. */
  | "malformed"
  /** A stream or call whose first message did not arrive in time. */
  | "handshake_timeout"
  /** A peer that stopped reading its stream and was cut off (provider stream, watch, event stream). */
  | "slow_reader";

export const VIOLATION_KINDS: readonly ViolationKind[] = ["oversize", "over_limit", "malformed", "handshake_timeout", "slow_reader"];

/** Counters by kind; one per broker. */
export class ProtocolViolations {
  private readonly counts = new Map<ViolationKind, number>(VIOLATION_KINDS.map((k) => [k, 0]));

  count(kind: ViolationKind, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  get(kind: ViolationKind): number {
    return this.counts.get(kind) ?? 0;
  }

  entries(): [ViolationKind, number][] {
    return [...this.counts];
  }
}
