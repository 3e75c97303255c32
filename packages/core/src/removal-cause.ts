import type { ProviderState } from "./provider-record.js";

/**
 * Why a provider incarnation stopped being present. The cause decides the
 * terminal state (lost: it vanished; removed: it left in order) and is what
 * metrics, events and logs branch on; the accompanying text is for people.
 */
export const REMOVAL_CAUSES = {
  /** The sweep saw no message from it for heartbeatTimeoutMs. */
  heartbeat_timeout: "lost",
  /** Its Attach stream ended, failed or was cancelled (SIGKILL, connection reset). */
  stream_break: "lost",
  /** A newer registration of the same provider id fenced it. */
  replaced: "lost",
  /** The agent said goodbye. */
  goodbye: "removed",
  /** A drain finished: all its in-flight work was reported. */
  drained: "removed",
  /** A drain-unbind's deadline passed with work still in flight. */
  drain_deadline: "removed",
  /** An operator unbound it (force, or with nothing left to drain). */
  unbound: "removed",
} as const satisfies Record<string, Extract<ProviderState, "lost" | "removed">>;

export type RemovalCause = keyof typeof REMOVAL_CAUSES;
