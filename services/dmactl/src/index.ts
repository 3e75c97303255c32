export { runCli, USAGE } from "./cli.js";
export { EXIT } from "./exit-codes.js";
export type { ExitCode } from "./exit-codes.js";
export { parseSize, formatBytes } from "./size.js";
export { renderTable } from "./table.js";
export { describeEvent } from "./admin-commands.js";
export type { Out } from "./admin-commands.js";
export { describeFates } from "./copy.js";
export type { CopyReport, ChunkFate, ChunkAttempt } from "./copy.js";
