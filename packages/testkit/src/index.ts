export { ServiceProcess, killAllServices, runningServiceCount } from "./service-process.js";
export type { LogLine, RunMode } from "./service-process.js";
export { Cluster } from "./cluster.js";
export type { AgentHandle, AgentSpec, ClusterOptions } from "./cluster.js";
export { REPO_ROOT } from "./repo-root.js";
export { FAULT_KINDS } from "./fault-driver.js";
export type { FaultKind, ProviderFaultDriver } from "./fault-driver.js";
export { FaultProxy } from "./fault-proxy.js";
export type { FaultMode, FaultProxyOptions, FaultProxyStats, ProxyDirection } from "./fault-proxy.js";
