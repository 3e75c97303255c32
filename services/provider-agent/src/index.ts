export { ProviderAgent } from "./provider-agent.js";
export { loadAgentConfig, expandProviders, AGENT_ENV_VARS, MAX_PROVIDERS_PER_AGENT } from "./config.js";
export type { AgentConfig } from "./config.js";
export { PROFILES, profileCapabilityMask } from "./profiles.js";
export type { ProviderProfile } from "./profiles.js";
export { toWorkResultChunks } from "./work-report.js";
