export { FileStore, recoverDir } from "./file-store.js";
export type { FileStoreOptions, FlushStats } from "./file-store.js";
export { encodeBatch, readFrame, logName, snapshotName, FRAME_HEADER_BYTES } from "./wal-format.js";
export { lockDataDir, LOCK_FILE } from "./dir-lock.js";
