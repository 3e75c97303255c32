import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@dmabroker/testkit";

// The Node version the README and package.json promise is the floor the
// lockfile really needs on Node 20: the highest 20.x minimum any locked
// package declares. A dependency bump that raises it fails here until the
// promise is raised too.

type Version = [number, number, number];

/** The lowest 20.x version one comparator admits (">=20.9.0", "^20.19.0", "20", ">= 10.x", "6.*", "*"), or undefined. */
function min20(part: string): Version | undefined {
  const m = /^(>=|\^)?\s*(\*|\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(part.trim());
  if (!m) return undefined;
  if (m[2] === "*") return [20, 0, 0];
  const num = (c: string | undefined): number => (c === undefined || c === "x" || c === "*" ? 0 : Number(c));
  const v: Version = [Number(m[2]), num(m[3]), num(m[4])];
  if (m[1] === ">=") return v[0] < 20 ? [20, 0, 0] : v[0] === 20 ? v : undefined;
  return v[0] === 20 ? v : undefined; // ^20.x.y and a bare 20 stay within major 20
}

const cmp = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The lowest 20.x version a range (alternatives joined by ||) admits, or undefined when it admits none. */
function lowest20(range: string): Version | undefined {
  return range
    .split("||")
    .map(min20)
    .filter((v): v is Version => v !== undefined)
    .sort(cmp)[0];
}

/**
 * Packages whose declared range excludes Node 20 but which run on it. cookie 2
 * is an ES module that fastify's light-my-request loads with require(), which
 * Node supports from 20.19 (that floor is asserted separately below).
 */
const RUNS_ON_20_DESPITE_ENGINES: Record<string, string> = { cookie: "20.19.0" };

describe("the Node version we promise", () => {
  const root = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };

  it("reads ranges the way npm does for the forms the lockfile uses", () => {
    expect(lowest20("^18.18.0 || ^20.9.0 || >=21.1.0")).toEqual([20, 9, 0]);
    expect(lowest20("^20.19.0 || >=22.12.0")).toEqual([20, 19, 0]);
    expect(lowest20("18 || 20 || >=22")).toEqual([20, 0, 0]);
    expect(lowest20(">=16.0.0")).toEqual([20, 0, 0]);
    expect(lowest20(">=22")).toBeUndefined();
    expect(lowest20("*")).toEqual([20, 0, 0]);
    expect(lowest20("6.* || 8.* || >= 10.*")).toEqual([20, 0, 0]);
    expect(lowest20("^12.22.0 || ^14.17.0")).toBeUndefined();
  });

  it("is the highest 20.x minimum of every locked package, and package.json says it", () => {
    let floor: Version = [20, 0, 0];
    let setBy = "";
    const unreadable: string[] = [];
    for (const [key, pkg] of Object.entries(lock.packages)) {
      const range = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
      if (!key || !range) continue;
      const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
      const exception = RUNS_ON_20_DESPITE_ENGINES[name];
      const low = exception ? (exception.split(".").map(Number) as Version) : lowest20(range);
      if (!low) {
        unreadable.push(`${name}@${pkg.version ?? "?"}: ${range}`);
        continue;
      }
      if (cmp(low, floor) > 0) [floor, setBy] = [low, `${name}@${pkg.version ?? "?"} (${range})`];
    }
    expect(unreadable, "packages whose engines admit no Node 20 (add them to RUNS_ON_20_DESPITE_ENGINES with the reason, or raise the promise)").toEqual([]);
    const promised = `>=${floor[0]}.${floor[1]}`;
    console.log(`Node floor on 20.x: ${floor.join(".")}, set by ${setBy || "nothing above 20.0"}`);
    expect(root.engines.node).toBe(promised);
    expect(readFileSync(path.join(REPO_ROOT, "README.md"), "utf8")).toContain(`Node ${floor[0]}.${floor[1]} or later`);
  });
});
