// Offline models of the deploy files: docker-compose.yml (parsed with YAML
// merge keys, interpolated as compose does) and deploy/docker/Dockerfile
// (parsed with dockerfile-ast into stages and COPY steps). No Docker engine
// runs here, so these are what the deploy tests check and stage from.
import { readFileSync } from "node:fs";
import path from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import type { Copy, From } from "dockerfile-ast";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "@dmabroker/testkit";

export const COMPOSE_FILE = path.join(REPO_ROOT, "docker-compose.yml");
export const DOCKERFILE = path.join(REPO_ROOT, "deploy/docker/Dockerfile");

/** The part of a compose service the checks read. */
export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  depends_on?: Record<string, { condition: string }> | string[];
  restart?: string;
  profiles?: string[];
  volumes?: string[];
  [key: string]: unknown;
}

export interface ComposeProject {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/** docker-compose.yml as compose reads it before interpolation (anchors and `<<` merges resolved). */
export function loadComposeRaw(file = COMPOSE_FILE): ComposeProject {
  return parseYaml(readFileSync(file, "utf8"), { merge: true }) as ComposeProject;
}

/**
 * Compose's variable interpolation on one string: `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `$VAR` and `$$`. Any other form throws, so a typo in the
 * compose file fails a test instead of passing through.
 */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|.?)/g,
    (whole, _m, braced?: string, op?: string, fallback?: string, bare?: string) => {
      if (whole === "$$") return "$";
      const name = braced ?? bare;
      if (!name) throw new Error(`unsupported interpolation ${JSON.stringify(whole)} in ${JSON.stringify(text)}`);
      const value = vars[name];
      if (op === ":-") return value === undefined || value === "" ? (fallback ?? "") : value;
      if (op === "-") return value === undefined ? (fallback ?? "") : value;
      return value ?? "";
    },
  );
}

/** Applies interpolate() to every string in a parsed compose document. */
export function interpolateDeep<T>(value: T, vars: Record<string, string | undefined>): T {
  if (typeof value === "string") return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => interpolateDeep(v, vars)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v as unknown, vars)])) as T;
  }
  return value;
}

/** docker-compose.yml with every variable at its default (as `docker compose up` with nothing set). */
export function loadCompose(vars: Record<string, string | undefined> = {}): ComposeProject {
  return interpolateDeep(loadComposeRaw(), vars);
}

/** A service's environment as the process sees it: strings only. */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) throw new Error("environment as a list is not used here; write it as a map");
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** One COPY step of a Dockerfile stage. */
export interface CopyStep {
  line: number;
  /** `--from` stage, or undefined for the build context. */
  from?: string;
  sources: string[];
  /** Absolute destination inside the image (relative ones resolved against WORKDIR). */
  dest: string;
  /** The destination names a directory (ends with / or has several sources). */
  destIsDir: boolean;
  chmod?: string;
}

export interface Stage {
  name: string;
  image: string;
  workdir: string;
  copies: CopyStep[];
  runs: { line: number; command: string }[];
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  expose: string[];
  /** ENV of the stage (KEY=value form). */
  env: Record<string, string>;
}

/** The Dockerfile as stages with their COPY, RUN, USER, ENTRYPOINT, CMD and EXPOSE steps. */
export function loadDockerfile(file = DOCKERFILE): Stage[] {
  const df = DockerfileParser.parse(readFileSync(file, "utf8"));
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    const args = ins.getArguments().map((a) => a.getValue());
    const line = (ins.getRange()?.start.line ?? 0) + 1;
    if (keyword === "FROM") {
      const from = ins as From;
      stage = { name: from.getBuildStage() ?? String(stages.length), image: from.getImage() ?? "", workdir: "/", copies: [], runs: [], expose: [], env: {} };
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`${file}:${line}: ${keyword} before FROM`);
    switch (keyword) {
      case "WORKDIR":
        stage.workdir = path.posix.resolve(stage.workdir, args[0] ?? "");
        break;
      case "COPY": {
        const copy = ins as Copy;
        const flags = Object.fromEntries(copy.getFlags().map((f) => [f.getName(), f.getValue() ?? ""]));
        const unknown = Object.keys(flags).filter((f) => f !== "from" && f !== "chmod");
        if (unknown.length > 0) throw new Error(`${file}:${line}: COPY flags ${unknown.join(", ")} are not modelled by this check`);
        const rest = copy.getJSONStrings().length > 0 ? copy.getJSONStrings().map((a) => a.getJSONValue()) : args;
        const sources = rest.slice(0, -1);
        const destRaw = rest[rest.length - 1] ?? "";
        stage.copies.push({
          line,
          from: flags.from,
          sources,
          dest: path.posix.resolve(stage.workdir, destRaw),
          destIsDir: destRaw.endsWith("/") || sources.length > 1,
          chmod: flags.chmod,
        });
        break;
      }
      case "RUN":
        stage.runs.push({ line, command: args.join(" ") });
        break;
      case "USER":
        stage.user = args[0];
        break;
      case "ENTRYPOINT":
      case "CMD": {
        const json = (ins as Copy).getJSONStrings().map((a) => a.getJSONValue());
        if (json.length === 0) throw new Error(`${file}:${line}: ${keyword} must use the exec (JSON) form so signals reach node`);
        if (keyword === "ENTRYPOINT") stage.entrypoint = json;
        else stage.cmd = json;
        break;
      }
      case "ENV":
        for (const kv of args) {
          const eq = kv.indexOf("=");
          if (eq <= 0) throw new Error(`${file}:${line}: write ENV as KEY=value`);
          stage.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        break;
      case "EXPOSE":
        stage.expose.push(...args);
        break;
      default:
        break;
    }
  }
  return stages;
}

/** Where a COPY step puts one source inside the image. */
export function copyTarget(step: CopyStep, source: string): string {
  return step.destIsDir ? path.posix.join(step.dest, path.posix.basename(source)) : step.dest;
}

/** The workspaces the root package.json names. */
export function workspaces(): string[] {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { workspaces: string[] }).workspaces;
}
