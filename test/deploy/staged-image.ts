// Builds the runtime image's file layout without Docker: interprets the
// Dockerfile's runtime stage (COPY --from=build = this repository after
// `npm run build`, COPY = the build context) into a temp directory, with a
// node_modules that holds only what `npm ci --omit=dev` puts at the top level
// for our code: the workspaces' production dependencies. Then runs processes
// there through the image's real entrypoint script, in a clean environment.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "@dmabroker/testkit";
import { copyTarget, loadDockerfile } from "./deploy-model.js";
import type { Stage } from "./deploy-model.js";

export interface StagedImage {
  /** The image's filesystem root. */
  fs: string;
  /** WORKDIR of the runtime stage, inside fs. */
  app: string;
  /** The ENTRYPOINT script, inside fs. */
  entrypoint: string;
  runtime: Stage;
  cleanup(): void;
}

/** Newest mtime of files ending in `ext` under `dir` (tsc -b leaves unchanged outputs alone but always rewrites .tsbuildinfo). */
function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(ext)) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Stages the runtime stage of deploy/docker/Dockerfile; throws naming the step that cannot be staged. */
export function stageRuntimeImage(): StagedImage {
  const stages = loadDockerfile();
  const build = stages.find((s) => s.name === "build");
  const runtime = stages[stages.length - 1];
  if (!build || runtime === build) throw new Error("the Dockerfile needs a 'build' stage and a runtime stage after it");
  if (!runtime.runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r.command)))
    throw new Error("the runtime stage must install production dependencies (npm ci --omit=dev)");
  const root = mkdtempSync(path.join(os.tmpdir(), "dmabroker-image-"));
  const fs = path.join(root, "fs");
  const into = (imagePath: string): string => path.join(fs, imagePath);
  try {
    for (const step of runtime.copies) {
      for (const source of step.sources) {
        let from: string;
        if (step.from === "build") {
          if (!source.startsWith(`${build.workdir}/`))
            throw new Error(`Dockerfile:${step.line}: ${source} is outside the build stage's WORKDIR ${build.workdir}`);
          const rel = path.posix.relative(build.workdir, source);
          from = path.join(REPO_ROOT, rel);
          if (rel.split("/").includes("dist")) {
            const pkg = path.join(REPO_ROOT, rel.slice(0, rel.indexOf("/dist")));
            if (
              existsSync(path.join(pkg, "src")) &&
              newestMtime(path.join(pkg, "src"), ".ts") > Math.max(newestMtime(from, ".js"), newestMtime(from, ".tsbuildinfo"))
            ) {
              throw new Error(`${rel} is older than its sources: run \`npm run build\` first`);
            }
          }
        } else if (step.from === undefined) {
          from = path.join(REPO_ROOT, source);
        } else {
          throw new Error(`Dockerfile:${step.line}: COPY --from=${step.from} is not modelled`);
        }
        if (!existsSync(from)) throw new Error(`Dockerfile:${step.line}: ${source} does not exist (${from}); run \`npm run build\` first`);
        const to = into(copyTarget(step, source));
        mkdirSync(path.dirname(to), { recursive: true });
        cpSync(from, to, { recursive: true });
        if (step.chmod) chmodSync(to, parseInt(step.chmod, 8));
      }
    }
    const app = into(runtime.workdir);
    linkProductionModules(app);
    const entrypoint = runtime.entrypoint?.[0];
    if (!entrypoint) throw new Error("the runtime stage has no ENTRYPOINT");
    const entryFile = entrypoint.startsWith("/") ? into(entrypoint) : into(path.posix.join("/usr/local/bin", entrypoint));
    if (!existsSync(entryFile)) throw new Error(`ENTRYPOINT ${entrypoint} is not in the staged image (${entryFile})`);
    return { fs, app, entrypoint: entryFile, runtime, cleanup: () => rmSync(root, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The top of node_modules after `npm ci --omit=dev` as our code sees it: each
 * staged workspace as @dmabroker/<name> (linked to the staged copy) and each
 * production dependency the staged workspaces declare (linked to this repo's
 * installed copy). A devDependency imported by a service is missing here.
 */
function linkProductionModules(app: string): void {
  const root = JSON.parse(readFileSync(path.join(app, "package.json"), "utf8")) as { workspaces: string[]; dependencies?: Record<string, string> };
  const modules = path.join(app, "node_modules");
  const deps = new Set(Object.keys(root.dependencies ?? {}));
  for (const ws of root.workspaces) {
    const manifest = path.join(app, ws, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; dependencies?: Record<string, string> };
    mkdirSync(path.dirname(path.join(modules, pkg.name)), { recursive: true });
    symlinkSync(path.join(app, ws), path.join(modules, pkg.name), "dir");
    for (const d of Object.keys(pkg.dependencies ?? {})) {
      // npm nests a dependency under the workspace when its version differs from the hoisted one.
      const nested = path.join(REPO_ROOT, ws, "node_modules", d);
      if (existsSync(nested)) {
        mkdirSync(path.dirname(path.join(app, ws, "node_modules", d)), { recursive: true });
        symlinkSync(nested, path.join(app, ws, "node_modules", d), "dir");
      } else deps.add(d);
    }
  }
  for (const d of deps) {
    if (existsSync(path.join(modules, d))) continue; // a workspace
    const installed = path.join(REPO_ROOT, "node_modules", d);
    if (!existsSync(installed)) throw new Error(`production dependency ${d} is not installed in ${REPO_ROOT}/node_modules`);
    mkdirSync(path.dirname(path.join(modules, d)), { recursive: true });
    symlinkSync(installed, path.join(modules, d), "dir");
  }
}

/** A parsed log line (pino JSON) or the raw text. */
export type Line = Record<string, unknown> & { raw: string };

/** A process started in the staged image; killed by pid in teardown. */
export class ImageProcess {
  readonly lines: Line[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private done = false;
  private static readonly live = new Set<ImageProcess>();

  /**
   * Runs `sh <entrypoint> ...args` as the container would: WORKDIR as cwd,
   * only the image's ENV, the compose environment and PATH to this node.
   */
  constructor(
    readonly name: string,
    image: StagedImage,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn("sh", [image.entrypoint, ...args], {
      cwd: image.app,
      env: { ...image.runtime.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: image.app, DMABROKER_APP_DIR: image.app, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    ImageProcess.live.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.done = true;
        ImageProcess.live.delete(this);
        resolve({ code, signal });
      }),
    );
    const onLine = (raw: string): void => {
      try {
        this.lines.push({ ...(JSON.parse(raw) as Record<string, unknown>), raw });
      } catch {
        this.lines.push({ raw });
      }
    };
    createInterface({ input: this.child.stdout! }).on("line", onLine);
    createInterface({ input: this.child.stderr! }).on("line", onLine);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The first line (past or future) that matches; rejects after timeoutMs or when the process exits. */
  async waitForLine(match: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(match);
      if (hit) return hit;
      if (this.done) throw new Error(`${this.name} exited before ${what}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Signals the process by pid (the entrypoint exec'd node, so this is node's pid). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.done && this.child.pid) process.kill(this.child.pid, signal);
  }

  tail(n = 20): string {
    return this.lines
      .slice(-n)
      .map((l) => l.raw)
      .join("\n");
  }

  /** SIGKILLs every process still running and waits for them. */
  static async killAll(): Promise<void> {
    const all = [...ImageProcess.live];
    for (const p of all) p.kill("SIGKILL");
    await Promise.all(all.map((p) => p.exited));
  }
}

/** Runs a command to its end (bounded), returning its exit code and output. */
export function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")}: no exit within ${options.timeoutMs ?? 10_000} ms\n${out}`));
    }, options.timeoutMs ?? 10_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
