import type { ViolationKind } from "./verdict.js";

/**
 * Violations already reported (and being fixed) that a run may tolerate
 * (`tolerateKnown`): matched by family, kind and detail text, never by case,
 * so a new way to fail still fails. Remove an entry once its fix lands.
 */
export interface KnownFinding {
  id: string;
  what: string;
  families: readonly string[];
  kinds: readonly ViolationKind[];
  detail: RegExp;
}

export const KNOWN_FINDINGS: readonly KnownFinding[] = [
  {
    id: "F1-undecodable-body",
    what: "an undecodable request body gets gRPC INTERNAL without a reason",
    families: ["rpc.corrupt", "rpc.metadata", "attach.corrupt", "attach.handshake", "attach.sequence"],
    kinds: ["unnamed_error"],
    detail: /^gRPC code 13 without a reason: Error deserializing request/,
  },
  {
    id: "F4-provider-results-unchecked",
    what: "a provider's results are not checked against their descriptors",
    families: ["attach.lying-provider"],
    kinds: ["wrong_answer", "unnamed_result"],
    detail: /./,
  },
  {
    id: "F5-output-released-early",
    what: "a result's output is released when its first write is queued: other watches, replays and TxStatus see NOERROR with 0 bytes",
    families: ["rpc.sequence"],
    kinds: ["wrong_answer"],
    detail: /NOERROR with output of 0 B/,
  },
];

export function knownFinding(family: string | undefined, kind: ViolationKind, detail: string): KnownFinding | undefined {
  return KNOWN_FINDINGS.find((k) => family !== undefined && k.families.includes(family) && k.kinds.includes(kind) && k.detail.test(detail));
}
