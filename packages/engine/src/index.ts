export { executeSync, execute, DEFAULT_CHUNK_BYTES } from "./operations.js";
export type { OpOutput, ExecuteOptions } from "./operations.js";
export { DmaChannel, OUT_OF_ORDER_ENGINES } from "./channel-model.js";
export type { ChannelModelOptions, DmaChannelOptions, FaultModel, Ordering, WorkOutcome, WorkResultKind, WorkUnit } from "./channel-model.js";
export { realChannelClock, channelClockFrom } from "./channel-clock.js";
export type { ChannelClock } from "./channel-clock.js";
export { createRng, randomSeed } from "./rng.js";
export type { Rng } from "./rng.js";
