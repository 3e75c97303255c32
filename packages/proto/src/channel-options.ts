import type { ChannelOptions } from "@grpc/grpc-js";

/** Largest message a client or agent exchanges with the broker (a full batch plus headroom). */
export const PEER_MESSAGE_LIMIT = 96 * 1024 * 1024;

/**
 * The grpc-js channel options of every peer that dials the broker (the SDK
 * and the provider agent): message limits, keepalive pings the broker
 * permits, an HTTP/2 receive window large transfers need (the 64 KiB
 * default stalls them), and name re-resolution every second: a broker
 * container started again comes back at a new address, and grpc-js's default
 * (at most every 30 s) kept agents and clients away from it for ~30 s.
 * Callers add their own (the agent its reconnect backoff).
 */
export const PEER_CHANNEL_OPTIONS = {
  "grpc.max_receive_message_length": PEER_MESSAGE_LIMIT,
  "grpc.max_send_message_length": PEER_MESSAGE_LIMIT,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc-node.flow_control_window": 16 * 1024 * 1024,
  "grpc.dns_min_time_between_resolutions_ms": 1_000,
} as const satisfies ChannelOptions;
