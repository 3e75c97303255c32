// deploy/docker/Dockerfile and its entrypoint, checked offline (no Docker
// engine here): every path it copies exists after `npm run build` and survives
// .dockerignore, every workspace's manifest reaches `npm ci`, every service's
// dist reaches the runtime stage, and the entrypoint script (run for real with
// sh, `node` replaced by a recorder) maps each role to the right dist file.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import dockerignoreModule from "@balena/dockerignore";
import { REPO_ROOT } from "@dmabroker/testkit";
import { copyTarget, loadDockerfile, workspaces } from "./deploy-model.js";
import type { Stage } from "./deploy-model.js";
import { run } from "./staged-image.js";

const stages = loadDockerfile();
const build = stages.find((s) => s.name === "build")!;
const runtime = stages.at(-1)!;
const ENTRYPOINT = path.join(REPO_ROOT, "deploy/docker/entrypoint.sh");
// CommonJS typed with `export default`: at run time the default import is the factory itself.
const dockerignore = ((dockerignoreModule as unknown as { default?: unknown }).default ?? dockerignoreModule) as typeof dockerignoreModule.default;

/** The image path a context-relative repo path lands on in the build stage, if a COPY put it there. */
function inBuildStage(rel: string): boolean {
  const abs = path.posix.join(build.workdir, rel);
  return build.copies.some((c) => !c.from && c.sources.some((s) => abs === copyTarget(c, s) || abs.startsWith(`${copyTarget(c, s)}/`)));
}

/** Image paths a stage has copied before its first `npm ci`. */
function copiesBeforeNpmCi(stage: Stage): string[] {
  const npmCi = stage.runs.find((r) => /^npm ci\b/.test(r.command));
  if (!npmCi) throw new Error(`the ${stage.name} stage runs no npm ci`);
  return stage.copies.filter((c) => c.line < npmCi.line).flatMap((c) => c.sources.map((s) => copyTarget(c, s)));
}

describe("Dockerfile", () => {
  it("builds on node:20-slim in two stages and runs as a non-root user with production dependencies only", () => {
    expect(stages.map((s) => [s.name, s.image])).toEqual([
      ["build", "node:20-slim"],
      ["runtime", "node:20-slim"],
    ]);
    expect(runtime.runs.some((r) => /^npm ci --omit=dev\b/.test(r.command))).toBe(true);
    expect(runtime.env.NODE_ENV).toBe("production");
    expect(runtime.user).toBeDefined();
    expect(["root", "0"]).not.toContain(runtime.user);
    expect(runtime.entrypoint).toEqual(["dmabroker"]);
    expect(runtime.cmd).toEqual(["broker"]);
    const entry = runtime.copies.find((c) => c.dest === "/usr/local/bin/dmabroker");
    expect(entry?.sources).toEqual(["deploy/docker/entrypoint.sh"]);
    expect(entry?.chmod).toBe("0755");
  });

  it("copies from the build context only paths that exist and .dockerignore keeps", () => {
    const ignore = dockerignore().add(readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8"));
    const sources = stages.flatMap((s) => s.copies.filter((c) => !c.from).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(10);
    for (const src of sources) {
      expect(existsSync(path.join(REPO_ROOT, src)), `${src} exists`).toBe(true);
      expect(ignore.ignores(src), `${src} is excluded by .dockerignore`).toBe(false);
    }
    // Host builds never leak into the image: it compiles and installs its own.
    for (const ws of workspaces()) {
      expect(ignore.ignores(`${ws}/dist/index.js`), `${ws}/dist`).toBe(true);
      expect(ignore.ignores(`${ws}/node_modules/x/index.js`), `${ws}/node_modules`).toBe(true);
    }
    expect(ignore.ignores("node_modules/pino/package.json")).toBe(true);
    expect(ignore.ignores(".git/HEAD")).toBe(true);
  });

  it("copies from the build stage only what the build stage has: files it copied, or dist/ that tsc -b made (after npm run build here)", () => {
    const fromBuild = runtime.copies.filter((c) => c.from === "build");
    expect(fromBuild.length).toBeGreaterThan(10);
    for (const c of fromBuild) {
      for (const src of c.sources) {
        expect(src.startsWith(`${build.workdir}/`), `${src} is under ${build.workdir}`).toBe(true);
        const rel = path.posix.relative(build.workdir, src);
        expect(existsSync(path.join(REPO_ROOT, rel)), `${rel} exists (run npm run build first)`).toBe(true);
        expect(inBuildStage(rel), `${rel} was copied into the build stage`).toBe(true);
      }
    }
  });

  it("gives npm ci every workspace's package.json, in both stages", () => {
    const manifests = ["/app/package.json", "/app/package-lock.json", ...workspaces().map((ws) => `/app/${ws}/package.json`)];
    for (const stage of [build, runtime]) {
      const copied = copiesBeforeNpmCi(stage);
      const missing = manifests.filter((m) => !copied.includes(m));
      expect(missing, `${stage.name} stage: manifests missing before npm ci`).toEqual([]);
    }
  });

  it("ships the dist of every package a service needs and of every service with a main.ts", () => {
    const inImage = new Set(runtime.copies.flatMap((c) => c.sources.map((s) => copyTarget(c, s))));
    const services = workspaces().filter((ws) => ws.startsWith("services/") && existsSync(path.join(REPO_ROOT, ws, "src/main.ts")));
    expect(services.length).toBeGreaterThanOrEqual(3);
    for (const ws of services) {
      // A new service (dmactl) needs its manifest in both stages, its dist here and a role in the entrypoint.
      expect(inImage.has(`/app/${ws}/dist`), `deploy/docker/Dockerfile copies ${ws}/dist into the runtime stage`).toBe(true);
      expect(readFileSync(ENTRYPOINT, "utf8"), `entrypoint.sh knows the role ${path.basename(ws)}`).toMatch(new RegExp(`\\b${path.basename(ws)}\\b`));
    }
    // Every internal package a shipped workspace depends on is shipped too.
    const names = new Map(
      workspaces().map((ws) => [(JSON.parse(readFileSync(path.join(REPO_ROOT, ws, "package.json"), "utf8")) as { name: string }).name, ws]),
    );
    const shipped = workspaces().filter((ws) => inImage.has(`/app/${ws}/dist`));
    for (const ws of shipped) {
      const deps = Object.keys(
        (JSON.parse(readFileSync(path.join(REPO_ROOT, ws, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {},
      );
      for (const dep of deps.filter((d) => names.has(d))) expect(shipped, `${ws} needs ${dep}`).toContain(names.get(dep));
    }
    expect(inImage.has("/app/proto"), "the .proto files are loaded at run time").toBe(true);
  });
});

describe("entrypoint.sh", () => {
  // `node` is replaced by a recorder on PATH (so no process starts here); the
  // production-start test runs the same script with the real node.
  const bin = mkdtempSync(path.join(os.tmpdir(), "dmabroker-fake-node-"));
  writeFileSync(path.join(bin, "node"), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  chmodSync(path.join(bin, "node"), 0o755);
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const entry = (...args: string[]): Promise<{ code: number | null; out: string }> =>
    run("sh", [ENTRYPOINT, ...args], { env: { PATH: `${bin}:/usr/bin:/bin`, DMABROKER_APP_DIR: REPO_ROOT }, timeoutMs: 5000 });
  const main = (service: string): string => path.join(REPO_ROOT, "services", service, "dist/main.js");

  it("maps each role to its service's dist/main.js and passes the rest on", async () => {
    expect(await entry()).toEqual({ code: 0, out: `${main("broker")}\n` });
    expect(await entry("broker", "--log-level", "debug")).toEqual({ code: 0, out: `${main("broker")}\n--log-level\ndebug\n` });
    expect(await entry("--grpc-port", "0")).toEqual({ code: 0, out: `${main("broker")}\n--grpc-port\n0\n` });
    expect(await entry("provider-agent", "--profile", "dsa")).toEqual({ code: 0, out: `${main("provider-agent")}\n--profile\ndsa\n` });
    expect(await entry("workload", "--ops", "memcpy")).toEqual({ code: 0, out: `${main("workload")}\n--ops\nmemcpy\n` });
  });

  it("maps dmactl, and says so clearly while the image has no dmactl", async () => {
    const result = await entry("dmactl", "providers");
    if (existsSync(main("dmactl"))) {
      expect(result).toEqual({ code: 0, out: `${main("dmactl")}\nproviders\n` });
    } else {
      expect(result.code).toBe(127);
      expect(result.out).toContain(`role 'dmactl' is not in this image (${main("dmactl")} is missing)`);
    }
  });

  it("refuses an unknown role with the list of roles", async () => {
    const result = await entry("brokr");
    expect(result.code).toBe(2);
    expect(result.out).toContain("unknown role 'brokr' (broker | provider-agent | workload | dmactl)");
  });
});
