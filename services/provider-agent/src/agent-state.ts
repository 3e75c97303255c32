import type * as grpc from "@grpc/grpc-js";
import type { DmaChannel } from "@dmabroker/engine";
import type { AgentMessage, BrokerMessage__Output } from "@dmabroker/proto";

export type AttachStream = grpc.ClientDuplexStream<AgentMessage, BrokerMessage__Output>;

/** One Attach stream and what hangs off it; `epoch` is 0 until the broker registers it. */
export interface Incarnation {
  stream: AttachStream;
  epoch: number;
  channels: DmaChannel<number>[];
  heartbeatTimer?: NodeJS.Timeout;
  lastBrokerHeartbeat: number;
  heartbeatTimeoutMs: number;
  seq: number;
  /** Resolvers waiting for the broker's echo of a heartbeat seq (an ordering barrier). */
  echoWaiters: Map<number, () => void>;
  /** Set by teardown: the stream is ended and nothing more is sent on it. */
  closed: boolean;
}

/**
 * The provider agent's life, one state at a time:
 *
 *     idle -> connecting -> registered -> draining -> stopped
 *                ^   |          |            | (unbind: drain, goodbye, come back)
 *                |   v          v            v
 *                +-- backoff <--+------------+
 *
 * `replaced` (a newer agent took the provider id) and `stopped` are final.
 * `draining.then` says what follows the drain: `stop` (SIGTERM) or
 * `reconnect` (an operator's unbind; the id comes back as a new incarnation).
 */
export type AgentState =
  | { kind: "idle" }
  | { kind: "connecting"; inc: Incarnation }
  | { kind: "registered"; inc: Incarnation }
  | { kind: "draining"; inc: Incarnation; then: "stop" | "reconnect" }
  | { kind: "backoff"; timer: NodeJS.Timeout; delayMs: number }
  | { kind: "stopped"; why: string }
  | { kind: "replaced"; message: string };

export type AgentStateKind = AgentState["kind"];

/** The transitions the agent may make; anything else is a bug, refused and logged. */
export const AGENT_TRANSITIONS: Readonly<Record<AgentStateKind, readonly AgentStateKind[]>> = {
  idle: ["connecting", "stopped"],
  connecting: ["registered", "backoff", "stopped", "replaced"],
  registered: ["draining", "backoff", "stopped", "replaced"],
  draining: ["draining", "backoff", "stopped", "replaced"],
  backoff: ["connecting", "stopped"],
  stopped: [],
  replaced: [],
};

/** The incarnation a state holds, if any. */
export function incarnationOf(state: AgentState): Incarnation | undefined {
  switch (state.kind) {
    case "connecting":
    case "registered":
    case "draining":
      return state.inc;
    default:
      return undefined;
  }
}

export function isFinalAgentState(kind: AgentStateKind): boolean {
  return AGENT_TRANSITIONS[kind].length === 0;
}
