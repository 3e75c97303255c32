export { BrokerClient } from "./broker-client.js";
export type { ConnectOptions, ChannelRequestOptions } from "./broker-client.js";
export { Lease } from "./lease.js";
export { DmaBrokerError } from "./dma-broker-error.js";
export type { CallOptions } from "./call-options.js";
export type { Completion, CookieStatus, ProviderPlacement, RanOn } from "./completion.js";
export { FAILOVER_DEFAULTS, RELOCATE_RETRYABLE } from "./failover-options.js";
export type { FailoverEvent, FailoverOptions, FailoverPolicy } from "./failover-options.js";
export { ops } from "./descriptors.js";
