import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (packages/testkit/{src,dist} → ../../..). */
export const REPO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
