// docker-compose.yml, checked offline (no Docker engine on this machine):
// against the compose-spec JSON schema vendored in deploy/schema, and against
// what each service's config.ts reads (variables, values, ports).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Ajv2019 } from "ajv/dist/2019.js";
import { parse as parseYaml } from "yaml";
import { BROKER_ENV_VARS, loadBrokerConfig } from "@dmabroker/broker";
import { AGENT_ENV_VARS, loadAgentConfig } from "@dmabroker/provider-agent";
import { WORKLOAD_ENV_VARS, loadWorkloadConfig } from "@dmabroker/workload";
import { COMPOSE_PROVIDER_SERVICES, REPO_ROOT } from "@dmabroker/testkit";
import { DOCKERFILE, copyTarget, interpolate, loadCompose, loadComposeRaw, loadDockerfile, serviceEnv } from "./deploy-model.js";
import type { ComposeProject, ComposeService } from "./deploy-model.js";

const SCHEMA = path.join(REPO_ROOT, "deploy/schema/compose-spec.json");

/** A validator for the vendored compose-spec schema (draft 2019-09). */
function composeValidator(): ReturnType<Ajv2019["compile"]> {
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // Compose's own formats: Go durations ("1m30s"); ports are checked below by
  // parsing; the network ones (no network config here) are accepted as written.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  for (const format of ["ports", "expose", "subnet_ip_address"]) ajv.addFormat(format, true);
  // Its "$schema" spells the 2019-09 meta-schema as http://…# (Ajv knows it as https://…): compile it as 2019-09 directly.
  const { $schema: _metaSchema, ...schema } = JSON.parse(readFileSync(SCHEMA, "utf8")) as Record<string, unknown>;
  return ajv.compile(withoutDraft4Ids(schema) as object);
}

/** Drops draft-04 style `"id": "<string>"` annotations, which Ajv refuses (their values are only labels here). */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === "id" && typeof v === "string"))
      .map(([k, v]) => [k, withoutDraft4Ids(v)]),
  );
}

/** "[host:]published:target[/proto]" → its parts. */
function parsePort(spec: string): { host?: string; published: number; target: number } {
  const m = /^(?:(.+):)?(\d+):(\d+)(?:\/tcp)?$/.exec(spec);
  if (!m) throw new Error(`port ${JSON.stringify(spec)} is not [host:]published:target`);
  return { host: m[1], published: Number(m[2]), target: Number(m[3]) };
}

const compose = loadCompose();
const dmabrokerServices = Object.entries(compose.services).filter(([, s]) => s.image === "dmabroker:local");
const roleOf = (s: ComposeService): string => s.command?.[0] ?? "broker";
const broker = compose.services.broker;
const brokerConfig = loadBrokerConfig([], serviceEnv(broker));

describe("docker-compose.yml against the compose-spec schema", () => {
  const validate = composeValidator();

  it("is valid (variables at their defaults, and as written)", () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(validate(loadComposeRaw()), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("rejects what compose would reject (the validator is not vacuous)", () => {
    const typo = structuredClone(compose) as ComposeProject;
    (typo.services.broker as Record<string, unknown>).healthchek = broker.healthcheck;
    expect(validate(typo)).toBe(false);
    const badDuration = structuredClone(compose) as ComposeProject;
    badDuration.services.broker.healthcheck!.interval = "5 seconds";
    expect(validate(badDuration)).toBe(false);
  });

  it("uses only the variable forms compose interpolates", () => {
    expect(interpolate("${A:-x}/${B-y}/$C/$$", { A: "", C: "c" })).toBe("x/y/c/$");
    expect(() => interpolate("${A:?required}", {})).toThrow(/unsupported interpolation/);
    // Every string in the file goes through interpolate() in loadCompose(): it parsed, so every form is known.
    expect(loadCompose({ DMABROKER_PUBLISH_HOST: "0.0.0.0" }).services.broker.ports).toEqual(["0.0.0.0:50051:50051", "0.0.0.0:8080:8080"]);
  });

  it("sets the broker's lease tombstone TTL from the shell (chaos runs), 10 min by default", () => {
    expect(serviceEnv(loadCompose().services.broker).DMABROKER_LEASE_TOMBSTONE_TTL_MS).toBe("600000");
    expect(serviceEnv(loadCompose({ DMABROKER_LEASE_TOMBSTONE_TTL_MS: "2000" }).services.broker).DMABROKER_LEASE_TOMBSTONE_TTL_MS).toBe("2000");
  });
});

describe("docker-compose.yml against the services' config.ts", () => {
  const envLists: Record<string, readonly string[]> = {
    broker: BROKER_ENV_VARS,
    "provider-agent": AGENT_ENV_VARS,
    workload: WORKLOAD_ENV_VARS,
  };

  it("runs the broker, an agent per profile and the workload from one image", () => {
    const roles = dmabrokerServices.map(([name, s]) => `${name}:${roleOf(s)}`).sort();
    expect(roles).toEqual(["agent-dsa:provider-agent", "agent-ioat:provider-agent", "agent-plx:provider-agent", "broker:broker", "workload:workload"]);
    const profiles = dmabrokerServices.filter(([, s]) => roleOf(s) === "provider-agent").map(([, s]) => serviceEnv(s).DMABROKER_PROFILE);
    expect(profiles.sort()).toEqual(["dsa", "ioat", "plx"]);
    for (const [, s] of dmabrokerServices) expect(s.build).toEqual({ context: ".", dockerfile: "deploy/docker/Dockerfile" });
  });

  it("sets only variables the service's config.ts reads", () => {
    for (const [name, s] of dmabrokerServices) {
      const known = envLists[roleOf(s)];
      expect(known, `${name}: role ${roleOf(s)}`).toBeDefined();
      const unknown = Object.keys(serviceEnv(s)).filter((k) => !known.includes(k));
      expect(unknown, `${name} sets variables its config.ts does not read`).toEqual([]);
    }
  });

  it("gives values each service's config accepts, pointing at the broker service's ports", () => {
    // The broker listens on every interface inside its container, or published ports reach nothing.
    expect(brokerConfig.grpcHost).toBe("0.0.0.0");
    expect(brokerConfig.adminHost).toBe("0.0.0.0");
    for (const [name, s] of dmabrokerServices) {
      const env = serviceEnv(s);
      if (roleOf(s) === "provider-agent") {
        const c = loadAgentConfig([], env);
        expect(c.broker, name).toBe(`broker:${brokerConfig.grpcPort}`);
        expect(COMPOSE_PROVIDER_SERVICES[c.providerId], `${name}: COMPOSE_PROVIDER_SERVICES maps ${c.providerId}`).toBe(name);
        expect(c.profile.name).toBe(env.DMABROKER_PROFILE);
      } else if (roleOf(s) === "workload") {
        const c = loadWorkloadConfig([], env);
        expect(c.broker).toBe(`broker:${brokerConfig.grpcPort}`);
        expect(c.durationMs, "the compose workload runs until stopped").toBe(0);
      }
    }
    const agentServices = dmabrokerServices.filter(([, s]) => roleOf(s) === "provider-agent").map(([n]) => n);
    expect(Object.values(COMPOSE_PROVIDER_SERVICES).sort()).toEqual(agentServices.sort());
  });

  it("publishes exactly the broker's gRPC and admin ports, on loopback unless asked", () => {
    const ports = (broker.ports ?? []).map(parsePort);
    expect(ports.map((p) => p.target).sort()).toEqual([brokerConfig.grpcPort, brokerConfig.adminPort].sort());
    expect(ports.map((p) => p.published).sort()).toEqual([50051, 8080].sort());
    expect(ports.every((p) => p.host === "127.0.0.1")).toBe(true);
    for (const [name, s] of dmabrokerServices) if (name !== "broker") expect(s.ports, `${name} publishes nothing`).toBeUndefined();
    // The image says the same.
    const runtime = loadDockerfile().at(-1)!;
    expect(runtime.expose.map(Number).sort()).toEqual([brokerConfig.grpcPort, brokerConfig.adminPort].sort());
  });

  it("health-checks the broker's /readyz and each agent's registration with a script the image contains", () => {
    const runtime = loadDockerfile().at(-1)!;
    const inImage = new Set(runtime.copies.flatMap((c) => c.sources.map((src) => copyTarget(c, src))));
    for (const [name, s] of dmabrokerServices) {
      if (roleOf(s) === "workload") continue; // a client: its health is in its log (event "result")
      const test = s.healthcheck?.test ?? [];
      expect(test.slice(0, 2), name).toEqual(["CMD", "node"]);
      expect(inImage.has(test[2]), `${name}: ${test[2]} is copied into the image`).toBe(true);
      const url = new URL(test[4]);
      expect(url.port).toBe(String(brokerConfig.adminPort));
      if (name === "broker") {
        expect(test[3]).toBe("ready");
        expect(url.hostname).toBe("127.0.0.1");
      } else {
        expect(test[3]).toBe("registered");
        expect(url.hostname).toBe("broker");
      }
    }
  });

  it("starts agents and the workload after a healthy broker; the workload depends on no agent", () => {
    for (const [name, s] of dmabrokerServices) {
      if (name === "broker") continue;
      expect(s.depends_on, name).toEqual({ broker: { condition: "service_healthy" } });
    }
  });

  it("restarts crashed processes but leaves killed or stopped ones down until `docker compose start`", () => {
    // Docker marks a container killed (`docker kill`) or stopped as manually stopped;
    // unless-stopped then does not restart it, so chaos and operators decide when it comes back.
    for (const [name, s] of dmabrokerServices) expect(s.restart, name).toBe("unless-stopped");
  });
});

describe("the broker's store", () => {
  it("lives on a named volume mounted at the broker's data dir, so a restarted container finds its records", () => {
    const broker = compose.services.broker;
    const dataDir = brokerConfig.dataDir;
    expect(dataDir).toBe("/data");
    const mount = (broker.volumes ?? []).map((v) => v.split(":")).find(([, target]) => target === dataDir);
    expect(mount, "a volume at the data dir").toBeDefined();
    const topLevel = (loadComposeRaw() as { volumes?: Record<string, unknown> }).volumes ?? {};
    expect(Object.keys(topLevel)).toContain(mount![0]);
    // The image creates it owned by the unprivileged user (Docker seeds a new named volume from it).
    expect(readFileSync(DOCKERFILE, "utf8")).toMatch(/mkdir -p \/data && chown node:node \/data/);
  });
});

describe("the monitoring profile", () => {
  const prometheus = compose.services.prometheus;

  it("runs Prometheus only with --profile monitoring, scraping the broker's admin port at /metrics", () => {
    expect(prometheus.profiles).toEqual(["monitoring"]);
    const [source, target] = (prometheus.volumes ?? [])[0].split(":");
    expect(existsSync(path.join(REPO_ROOT, source))).toBe(true);
    expect(prometheus.command).toContain(`--config.file=${target}`);
    const config = parseYaml(readFileSync(path.join(REPO_ROOT, source), "utf8")) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === "dmabroker-broker");
    expect(job?.metrics_path).toBe("/metrics");
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`broker:${brokerConfig.adminPort}`]);
  });
});
