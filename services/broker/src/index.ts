export { BrokerServer } from "./broker-server.js";
export { loadBrokerConfig, BROKER_ENV_VARS } from "./config.js";
export type { BrokerConfig } from "./config.js";
