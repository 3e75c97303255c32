export { OPERATION_CODES, OPERATION_NAMES, ALL_CAPABILITIES, capabilityBit, capabilityMask, operationsOf } from "./operation.js";
export type { OperationName } from "./operation.js";
export { MAX_FILL_PATTERN_BYTES, transferLength, payloadBytes } from "./descriptor.js";
export type { DmaDescriptor, Constraints } from "./descriptor.js";
export { validateDescriptor } from "./descriptor-validation.js";
export { GrpcCode, REASONS, REASON_NAMES, ERROR_DOMAIN, isReason } from "./reasons.js";
export type { Reason } from "./reasons.js";
export { DmaError } from "./dma-error.js";
export { systemClock, ManualClock } from "./clock.js";
export type { Clock, TimerHandle } from "./clock.js";
export { StateMachine } from "./state-machine.js";
export type { CompletionRecord, OperationOutput, TxResult, TxStatus, WorkReport } from "./completion.js";
export { CookieLedger } from "./cookie-ledger.js";
export type { LedgerEntry, LedgerLimits } from "./cookie-ledger.js";
export { ProviderRecord, ChannelRecord, PROVIDER_TRANSITIONS, isPresentProviderState } from "./provider-record.js";
export type { ProviderState, ProviderSpec, ProviderLink, Ordering, WorkRoute } from "./provider-record.js";
export { LeaseRecord, LEASE_TRANSITIONS, END_REASON, isLiveLeaseState } from "./lease-record.js";
export type { LeaseState, LeaseMode, LeaseObserver, LeaseRecordOptions, LeaseStateChange } from "./lease-record.js";
export { selectChannel, couldServe } from "./channel-allocator.js";
export type { ChannelRequest } from "./channel-allocator.js";
export { ProviderRegistry } from "./provider-registry.js";
export { LeaseTable } from "./lease-table.js";
export { RateLimiter } from "./rate-limiter.js";
export { createMemoryStore, emptyState, applyOps, STORE_TABLES, DURABILITIES } from "./store.js";
export type { BrokerStore, StoreOp, StoreTable, StoredState, StoreInfo, Durability } from "./store.js";
export { StoreWriter, EPOCH_BLOCK, COOKIE_BLOCK } from "./store-records.js";
export type { EpochRow, ProviderRow, LeaseRow, UnboundRow } from "./store-records.js";
export { compileBrokerOptions, DEFAULT_BROKER_OPTIONS } from "./broker-options.js";
export type { BrokerOptions, ResolvedBrokerOptions } from "./broker-options.js";
export type { BrokerEvent, UnbindMode } from "./broker-event.js";
export { REMOVAL_CAUSES } from "./removal-cause.js";
export type { RemovalCause } from "./removal-cause.js";
export { snapshotProvider, snapshotLease, snapshotChannel } from "./snapshots.js";
export type {
  ProviderSnapshot,
  LeaseSnapshot,
  ChannelSnapshot,
  ProviderFilter,
  LeaseFilter,
  ChannelFilter,
  PageRequest,
  Page,
  RecordCounts,
  MemoryReport,
  StatsSnapshot,
} from "./snapshots.js";
export { BrokerCore } from "./broker-core.js";
export type {
  BrokerCoreDeps,
  LeaseRequest,
  UnbindOptions,
  UnbindReport,
  ChannelRemovalReport,
  AffectedLease,
  ProviderDetail,
  RecoveryReport,
  BrokerStats,
} from "./broker-core.js";
export type { IncarnationHistory } from "./provider-registry.js";
export { chunkByBytes } from "./chunk-by-bytes.js";
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_PROVIDER_CHANNELS,
  MAX_XOR_SOURCES,
  MAX_PROFILE_BYTES,
  MAX_ECHO_CHARS,
  truncateEcho,
} from "./limits.js";
export { checkResult } from "./result-validation.js";
export type { ResultExpectation } from "./result-validation.js";
export { Backoff } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { Settings, settingNames } from "./settings.js";
export type { SettingName } from "./settings.js";
