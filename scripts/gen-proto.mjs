#!/usr/bin/env node
// Regenerates packages/proto/src/gen from proto/ with proto-loader-gen-types,
// using the same option set as runtime loading. `--out DIR` writes elsewhere
// (the freshness test generates into a temp dir and compares).
import { execFileSync } from "node:child_process";
import { rmSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { out: { type: "string" } } });
const outDir = path.resolve(values.out ?? path.join(root, "packages/proto/src/gen"));

// Mirrors PROTO_LOADER_OPTIONS in packages/proto/src/loader-options.ts
// (a test checks the two agree).
export const GEN_FLAGS = ["--longs=Number", "--enums=String", "--defaults", "--oneofs"];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const bin = path.join(root, "node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js");
execFileSync(
  process.execPath,
  [
    bin,
    ...GEN_FLAGS,
    "--grpcLib=@grpc/grpc-js",
    "--importFileExtension=.js",
    `--includeDirs=${path.join(root, "proto")}`,
    `--outDir=${outDir}`,
    "dmabroker/v1/types.proto",
    "dmabroker/v1/broker.proto",
    "dmabroker/v1/provider.proto",
  ],
  { stdio: "inherit", cwd: root },
);
// proto-loader-gen-types writes the absolute source path into every header;
// make it repository-relative so the output is the same in every clone.
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, "utf8");
  const fixed = text.split(root + path.sep).join("");
  if (fixed !== text) writeFileSync(file, fixed);
}
console.log(`generated types in ${path.relative(root, outDir) || "."}`);
