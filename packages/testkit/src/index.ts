export { ServiceProcess, killAllServices, runningServiceCount } from "./service-process.js";
export type { LogLine, RunMode } from "./service-process.js";
export { Cluster } from "./cluster.js";
export type { AgentHandle, AgentSpec, ClusterOptions } from "./cluster.js";
export { REPO_ROOT } from "./repo-root.js";
export { FAULT_KINDS } from "./fault-driver.js";
export type { FaultKind, ProviderFaultDriver } from "./fault-driver.js";
export { leaseLifeLeft, runChaos } from "./chaos/chaos-runner.js";
export type { ChaosOptions, ChaosProgress, ChaosSummary, ChaosTarget } from "./chaos/chaos-runner.js";
export { startLocalChaosTarget } from "./chaos/local-target.js";
export { composeChaosTarget } from "./chaos/compose-target.js";
export type { ComposeTargetOptions } from "./chaos/compose-target.js";
export { InvariantChecker } from "./chaos/invariant-checker.js";
export type { ChaosVerdict, FaultRecord, Violation } from "./chaos/invariant-checker.js";
export { AdminApi } from "./chaos/admin-api.js";
export { percentile, percentiles } from "./chaos/percentiles.js";
export { ComposeCommandError, ComposeFaultDriver, COMPOSE_PROVIDER_SERVICES, CONTAINER_CLIS, podmanComposeDefaultProject } from "./compose-fault-driver.js";
export type { ComposeFaultDriverOptions, ContainerCli } from "./compose-fault-driver.js";
export { FaultProxy } from "./fault-proxy.js";
export type { FaultMode, FaultProxyOptions, FaultProxyStats, ProxyDirection } from "./fault-proxy.js";
export { NetnsLink, netnsSupport } from "./netns.js";
export type { NetnsSupport } from "./netns.js";
export { ProcessFaultDriver } from "./process-fault-driver.js";
export {
  Bystander,
  CI_FAMILY_NAMES as FUZZ_CI_FAMILIES,
  KNOWN_FINDINGS,
  FAMILIES as FUZZ_FAMILIES,
  FAMILY_NAMES as FUZZ_FAMILY_NAMES,
  FuzzTarget,
  RawConnection,
  formatFuzzSummary,
  runFuzz,
  wire,
  encodeMessage,
  decodeMessage,
} from "./fuzz/index.js";
export type { BystanderReport, KnownFinding, FuzzOptions, FuzzProgress, FuzzSummary, FuzzViolation } from "./fuzz/index.js";
export { FakeLink, RecordingObserver, sentDescriptor } from "./fakes.js";
export type { TerminateOrder, UnbindOrder, WorkBatch } from "./fakes.js";
