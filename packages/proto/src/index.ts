export { PROTO_LOADER_OPTIONS } from "./loader-options.js";
export { PROTO_ROOT, DMABROKER_PROTO_FILES } from "./paths.js";
export { loadDmaBrokerV1, loadPackageDefinition } from "./load.js";
export type { DmaBrokerV1 } from "./load.js";
export {
  STATUS_DETAILS_KEY,
  REASON_KEY,
  CLIENT_ID_KEY,
  toServiceError,
  decodeServiceError,
} from "./status-details.js";
export type { DecodedStatus } from "./status-details.js";
export * from "./gen/index.js";
export { outputToWire, outputFromWire, txResultFromWire, txResultToWire } from "./operation-wire.js";
export type { OutputFields } from "./operation-wire.js";
export { leaseStateToWire, leaseStateFromWire } from "./lease-state-wire.js";
export { scanWire } from "./wire-scan.js";
export type { WireShape, WireFieldLimit, WireVerdict } from "./wire-scan.js";
export { leaseModeToWire, leaseModeFromWire, orderingToWire, orderingFromWire } from "./mode-wire.js";
export { PEER_CHANNEL_OPTIONS, PEER_MESSAGE_LIMIT } from "./channel-options.js";
