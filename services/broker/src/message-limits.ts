import { MAX_FILL_PATTERN_BYTES, MAX_LABELS, MAX_LABEL_KEY_BYTES, MAX_LABEL_VALUE_BYTES, MAX_PROVIDER_CHANNELS, MAX_XOR_SOURCES } from "@dmabroker/core";
import type { ResolvedBrokerOptions, Reason } from "@dmabroker/core";
import type { WireShape } from "@dmabroker/proto";

/**
 * What one gRPC method's request may be, checked on the raw bytes before
 * decoding (message-guard.ts): a byte limit sized to what the method needs,
 * and a wire shape bounding every count and string. `reasonFor` names the
 * refusal by the field that broke a limit.
 */
export interface MethodLimit {
  maxBytes: number;
  shape: WireShape;
  /** The reason for a message over `maxBytes`. */
  tooLarge: Reason;
  /** The limit named in that refusal when it is not `maxBytes` (Submit: the batch's payload limit, which the client controls). */
  reportedLimit?: number;
  /** The reason for a count or length limit passed at `path` (e.g. "descriptors", "register.labels"). */
  reasonFor(path: string): Reason;
}

/** Longest id a client may send (lease ids are 21 characters; provider ids at most 63). */
export const MAX_ID_BYTES = 128;
/** Longest reason text an agent may send (Goodbye); stored and shown to operators. */
export const MAX_AGENT_TEXT_BYTES = 1024;
/** Longest reason in a WorkResult (a catalogue name: the longest is ~25 characters). */
const MAX_RESULT_REASON_BYTES = 64;
/** Smallest request limit: every small unary call fits in this. */
const SMALL_REQUEST_BYTES = 4 * 1024;
const KiB = 1024;

const labelEntry: WireShape = {
  maxFields: 4,
  fields: { 1: { name: "key", maxBytes: MAX_LABEL_KEY_BYTES }, 2: { name: "value", maxBytes: MAX_LABEL_VALUE_BYTES } },
};

const leaseIdOnly: WireShape = { maxFields: 4, fields: { 1: { name: "lease_id", maxBytes: MAX_ID_BYTES } } };

const sources = (name: string): WireShape => ({ maxFields: MAX_XOR_SOURCES + 4, fields: { 1: { name, maxCount: MAX_XOR_SOURCES } } });

/** dmabroker.v1.Descriptor: a oneof of small bodies; xor sources counted. */
const descriptor: WireShape = {
  maxFields: 8,
  fields: {
    1: { name: "memcpy", shape: { maxFields: 4 } },
    2: { name: "fill", shape: { maxFields: 4, fields: { 1: { name: "pattern", maxBytes: MAX_FILL_PATTERN_BYTES } } } },
    3: { name: "xor", shape: sources("sources") },
    4: { name: "xor_validate", shape: sources("sources") },
    5: { name: "crc32c", shape: { maxFields: 4 } },
    6: { name: "compare", shape: { maxFields: 4 } },
    7: { name: "interrupt", shape: { maxFields: 4 } },
  },
};

/** Per-method request limits of the client service, from the broker's options. */
export function clientMethodLimits(o: ResolvedBrokerOptions): Record<string, MethodLimit> {
  const small = (shape: WireShape): MethodLimit => ({
    maxBytes: SMALL_REQUEST_BYTES,
    shape,
    tooLarge: "MESSAGE_TOO_LARGE",
    reasonFor: () => "INVALID_ARGUMENT",
  });
  // A full batch: every payload byte plus framing (tags, lengths: ≤ 16 bytes per buffer, ≤ 64 + 2 buffers per descriptor).
  const submitBytes = o.maxBatchBytes + o.maxBatchDescriptors * (MAX_XOR_SOURCES + 2) * 16 + KiB;
  return {
    RequestChannel: {
      maxBytes: 64 * KiB,
      shape: {
        maxFields: 8,
        fields: {
          2: {
            name: "selector",
            shape: {
              maxFields: MAX_LABELS + 4,
              fields: { 1: { name: "labels", maxCount: MAX_LABELS, shape: labelEntry }, 2: { name: "provider_id", maxBytes: MAX_ID_BYTES } },
            },
          },
        },
      },
      tooLarge: "MESSAGE_TOO_LARGE",
      reasonFor: () => "INVALID_ARGUMENT",
    },
    KeepAlive: small(leaseIdOnly),
    Release: small(leaseIdOnly),
    IssuePending: small(leaseIdOnly),
    TxStatus: small(leaseIdOnly),
    Terminate: small(leaseIdOnly),
    WatchLease: small(leaseIdOnly),
    ListProviders: small({ maxFields: 4, fields: { 2: { name: "page_token", maxBytes: 32 } } }),
    Submit: {
      maxBytes: submitBytes,
      shape: {
        maxFields: o.maxBatchDescriptors + 8,
        fields: {
          1: { name: "lease_id", maxBytes: MAX_ID_BYTES },
          2: { name: "descriptors", maxCount: o.maxBatchDescriptors, shape: descriptor },
        },
      },
      tooLarge: "BATCH_TOO_LARGE",
      reportedLimit: o.maxBatchBytes,
      reasonFor: (path) => (path === "descriptors" ? "BATCH_TOO_LARGE" : path.startsWith("descriptors.") ? "INVALID_DESCRIPTOR" : "INVALID_ARGUMENT"),
    },
  };
}

/**
 * The Attach stream's per-message limits: each AgentMessage kind has its own
 * byte limit (a Register is small, a WorkDone carries outputs), and WorkDone's
 * result count is bounded so one message's decode stays short.
 */
export function attachMessageLimit(o: ResolvedBrokerOptions, transportLimit: number): MethodLimit {
  const tiny = { maxFields: 8 };
  return {
    maxBytes: transportLimit,
    shape: {
      maxFields: 4,
      fields: {
        1: {
          name: "register",
          maxBytes: 256 * KiB,
          shape: {
            maxFields: MAX_LABELS + MAX_PROVIDER_CHANNELS + 16,
            fields: {
              1: { name: "provider_id", maxBytes: MAX_ID_BYTES },
              2: { name: "labels", maxCount: MAX_LABELS, shape: labelEntry },
              4: { name: "constraints", shape: tiny },
              7: { name: "profile", maxBytes: MAX_ID_BYTES },
              8: { name: "channels", maxCount: MAX_PROVIDER_CHANNELS, shape: tiny },
            },
          },
        },
        2: { name: "heartbeat", maxBytes: 64, shape: tiny },
        3: {
          name: "done",
          shape: {
            maxFields: o.maxResultsPerMessage + 4,
            fields: {
              2: {
                name: "results",
                maxCount: o.maxResultsPerMessage,
                shape: { maxFields: 16, fields: { 4: { name: "reason", maxBytes: MAX_RESULT_REASON_BYTES } } },
              },
            },
          },
        },
        4: { name: "terminate_ack", maxBytes: 64, shape: tiny },
        5: { name: "draining", maxBytes: 64, shape: tiny },
        6: { name: "goodbye", maxBytes: MAX_AGENT_TEXT_BYTES + 16, shape: { maxFields: 4, fields: { 1: { name: "reason", maxBytes: MAX_AGENT_TEXT_BYTES } } } },
      },
    },
    tooLarge: "MESSAGE_TOO_LARGE",
    reasonFor: (path) => (path.startsWith("register") ? "INVALID_REGISTRATION" : "PROVIDER_PROTOCOL_ERROR"),
  };
}
