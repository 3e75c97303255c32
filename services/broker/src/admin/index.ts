export { createAdminApp } from "./admin-app.js";
export type { AdminDeps } from "./admin-app.js";
export { EventHub } from "./event-hub.js";
export type { SequencedEvent } from "./event-hub.js";
export { formatSse } from "./event-stream.js";
export { createBrokerMetrics } from "./metrics.js";
export type { BrokerMetrics, DetectionCause } from "./metrics.js";
export { PROBLEM_CONTENT_TYPE, problemOf, problemType } from "./problem.js";
export { PUBLIC_ROUTES } from "./auth.js";
