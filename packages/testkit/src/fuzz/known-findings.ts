import type { ViolationKind } from "./verdict.js";

/**
 * Violations already reported (and being fixed) that a run may tolerate
 * (`tolerateKnown`): matched by family, kind and detail text, never by case,
 * so a new way to fail still fails. Add an entry only together with the
 * issue that reports it, and remove it once its fix lands.
 */
export interface KnownFinding {
  id: string;
  what: string;
  families: readonly string[];
  kinds: readonly ViolationKind[];
  detail: RegExp;
}

/**
 * None today. The first findings are fixed and their entries gone: F1 (an
 * undecodable body answered INTERNAL without a reason: now MALFORMED_MESSAGE,
 * message-guard.ts), F4 (provider results unchecked: now result-validation.ts
 * and PROVIDER_PROTOCOL_ERROR), F5 (output released when its first write was
 * queued: now held until the write is flushed, OUTPUT_NOT_RETAINED after).
 */
export const KNOWN_FINDINGS: readonly KnownFinding[] = [];

export function knownFinding(
  family: string | undefined,
  kind: ViolationKind,
  detail: string,
  findings: readonly KnownFinding[] = KNOWN_FINDINGS,
): KnownFinding | undefined {
  return findings.find((k) => family !== undefined && k.families.includes(family) && k.kinds.includes(kind) && k.detail.test(detail));
}
