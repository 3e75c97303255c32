#!/usr/bin/env node
// The `dmactl` command. npm links this committed file when it installs the
// workspace (dist/ does not exist yet in a fresh clone, so a bin pointing into
// dist/ would not be linked); it runs the built CLI, or says how to build it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("dmactl: INVALID_ARGUMENT: dmactl is not built yet; run `npm run build` (or `npm start`) at the repository root first\n");
  process.exit(2);
}
await import(entry.href);
