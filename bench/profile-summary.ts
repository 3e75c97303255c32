#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench --
// --profile-broker DIR`): the functions with the most self time, and the
// files/packages they live in. Usage: tsx bench/profile-summary.ts FILE [N]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: profile-summary FILE.cpuprofile [top N]\n");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string): string =>
  url
    .replace(/^file:\/\//, "")
    .replace(/.*node_modules\//, "nm:")
    .replace(/.*\/(packages|services)\//, "$1/") || "(native)";
const fnKey = (n: ProfileNode): string => `${n.callFrame.functionName || "(anonymous)"}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const area = (n: ProfileNode): string => {
  const u = shortUrl(n.callFrame.url);
  if (u.startsWith("nm:"))
    return u
      .split("/")
      .slice(0, u.startsWith("nm:@") ? 2 : 1)
      .join("/");
  if (u.startsWith("packages/") || u.startsWith("services/")) return u.split("/").slice(0, 2).join("/");
  if (u.startsWith("node:")) return "node:" + u.slice(5).split("/")[0];
  return n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : u;
};

const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  add(fns, fnKey(n), t);
  add(areas, area(n), t);
}
const pct = (t: number): string => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>, n: number): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${pct(t)}  ${k}\n`);
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print("self time by area", areas, 15);
print(`top ${top} functions by self time`, fns, top);
