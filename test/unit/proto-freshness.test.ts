import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROTO_LOADER_OPTIONS } from "@dmabroker/proto";
import { REPO_ROOT } from "@dmabroker/testkit";

// The generated TS types are committed; they must be what proto-loader-gen-types
// makes from proto/ today, with the same options runtime loading uses.

const committed = path.join(REPO_ROOT, "packages/proto/src/gen");
const fresh = mkdtempSync(path.join(tmpdir(), "dmabroker-gen-"));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("generated proto types", () => {
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  it("are up to date with proto/ (run `npm run gen:proto` if this fails)", () => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts/gen-proto.mjs"), "--out", fresh], { stdio: "pipe" });
    const files = listFiles(fresh);
    expect(listFiles(committed)).toEqual(files);
    for (const f of files) {
      expect(readFileSync(path.join(committed, f), "utf8"), f).toBe(readFileSync(path.join(fresh, f), "utf8"));
    }
  });

  it("are generated with the runtime's loader options", () => {
    const script = readFileSync(path.join(REPO_ROOT, "scripts/gen-proto.mjs"), "utf8");
    const flags = /GEN_FLAGS = \[(.*)\]/.exec(script)![1];
    expect(PROTO_LOADER_OPTIONS).toMatchObject({ keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    expect(flags).toContain('"--longs=Number"');
    expect(flags).toContain('"--enums=String"');
    expect(flags).toContain('"--defaults"');
    expect(flags).toContain('"--oneofs"');
    expect(flags).not.toContain("keepCase");
  });
});
