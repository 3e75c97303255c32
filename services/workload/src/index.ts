export { Workload, matches } from "./workload.js";
export type { WorkloadCounts } from "./workload.js";
export { loadWorkloadConfig, WORKLOAD_ENV_VARS, WORKLOAD_OPS, FAILOVER_POLICIES } from "./config.js";
export type { WorkloadConfig, WorkloadOp } from "./config.js";
export { makeDescriptor, randomBytesFrom } from "./descriptor-factory.js";
