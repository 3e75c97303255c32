// The image's production start, without Docker: the runtime stage's layout is
// staged from dist/ (test/deploy/staged-image.ts), and the image's real
// entrypoint script starts each process with exactly the environment
// docker-compose.yml gives its service; only the broker's ports become 0 and
// its host loopback, and "broker:<port>" becomes the address it printed. The
// compose healthcheck commands run against it as Docker would run them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageProcess, run, stageRuntimeImage } from "./staged-image.js";
import type { StagedImage } from "./staged-image.js";
import { loadCompose, serviceEnv } from "./deploy-model.js";
import type { ComposeService } from "./deploy-model.js";

const compose = loadCompose();
const START_MS = 15_000;

let image: StagedImage;
let broker: ImageProcess;
let grpc: string;
let admin: string;

/** The compose healthcheck of a service, run in the staged image with its admin URL pointed at the test broker. */
function healthcheck(service: ComposeService): Promise<{ code: number | null; out: string }> {
  const [kind, node, script, mode, url] = service.healthcheck!.test;
  expect([kind, node]).toEqual(["CMD", "node"]);
  return run(process.execPath, [`${image.fs}${script}`, mode, url.replace(/^http:\/\/[^/]+/, admin)], {
    cwd: image.app,
    env: { PATH: process.env.PATH, ...serviceEnv(service) },
    timeoutMs: 5000,
  });
}

/** The compose environment of a client of the broker, pointed at the test broker. */
function clientEnv(service: ComposeService): Record<string, string> {
  const env = serviceEnv(service);
  expect(env.DMABROKER_BROKER).toMatch(/^broker:\d+$/);
  return { ...env, DMABROKER_BROKER: grpc };
}

beforeAll(() => {
  image = stageRuntimeImage();
});

afterAll(async () => {
  await ImageProcess.killAll();
  image?.cleanup();
});

describe("the image's production start (dist/, the entrypoint, the compose environment)", () => {
  it("starts the broker, which answers its compose healthcheck (/readyz)", async () => {
    const service = compose.services.broker;
    // The compose data dir (/data, a named volume there) is moved into the staged image's root here.
    expect(serviceEnv(service).DMABROKER_DATA_DIR).toBe("/data");
    const env = {
      ...serviceEnv(service),
      DMABROKER_GRPC_HOST: "127.0.0.1",
      DMABROKER_GRPC_PORT: "0",
      DMABROKER_ADMIN_HOST: "127.0.0.1",
      DMABROKER_ADMIN_PORT: "0",
      DMABROKER_DATA_DIR: `${image.fs}/data`,
    };
    broker = new ImageProcess("broker", image, service.command ?? [], env);
    const ready = await broker.waitForLine((l) => l.msg === "broker ready", START_MS, "'broker ready'");
    grpc = String(ready.grpc);
    admin = String(ready.admin);
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${admin}/readyz`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await healthcheck(service)).toEqual({ code: 0, out: "" });
    // The operator console's files are in the image too.
    const ui = await fetch(`${admin}/ui/app.js`, { signal: AbortSignal.timeout(5000) });
    expect(ui.status).toBe(200);
    expect(ui.headers.get("content-type")).toContain("text/javascript");
  });

  it("starts the three agents, which register and answer their compose healthcheck", async () => {
    const agents = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === "provider-agent");
    expect(agents).toHaveLength(3);
    const procs = agents.map(([name, s]) => new ImageProcess(name, image, s.command ?? [], clientEnv(s)));
    await Promise.all(procs.map((p) => p.waitForLine((l) => l.msg === "registered", START_MS, "registration")));
    const res = await fetch(`${admin}/v1/providers`, { signal: AbortSignal.timeout(5000) });
    const { providers } = (await res.json()) as { providers: { providerId: string; state: string; profile: string }[] };
    expect(providers.map((p) => `${p.providerId}/${p.profile}/${p.state}`).sort()).toEqual(["dsa-0/dsa/online", "ioat-0/ioat/online", "plx-0/plx/online"]);
    for (const [name, s] of agents) expect(await healthcheck(s), name).toEqual({ code: 0, out: "" });

    // A killed agent's container turns unhealthy: the broker no longer lists it online.
    const [deadName, dead] = agents[1];
    procs[1].kill("SIGKILL");
    await procs[1].exited;
    await expect.poll(async () => (await healthcheck(dead)).code, { timeout: 5000, interval: 100, message: `${deadName} healthcheck after SIGKILL` }).toBe(1);
    // Without leases the record is freed at once; with leases it stays as a tombstone.
    const id = serviceEnv(dead).DMABROKER_PROVIDER_ID;
    expect((await healthcheck(dead)).out).toMatch(new RegExp(`provider ${id} is (not registered|lost|removed|freed)`));
  });

  it("starts the workload, which moves verified bytes and stops cleanly on SIGTERM", async () => {
    const service = compose.services.workload;
    const workload = new ImageProcess("workload", image, service.command ?? [], clientEnv(service));
    await workload.waitForLine((l) => l.event === "result" && l.ok === true, START_MS, "a verified transfer result");
    workload.kill("SIGTERM");
    const exit = await workload.exited;
    const summary = workload.lines.find((l) => l.event === "workload.summary");
    expect(summary, workload.tail()).toBeDefined();
    expect(summary!.violations).toBe(0);
    expect(exit, workload.tail()).toEqual({ code: 0, signal: null });
  });

  it("ends the broker by pid; a stopped broker fails the healthcheck", async () => {
    broker.kill("SIGKILL");
    await broker.exited;
    expect((await healthcheck(compose.services.broker)).code).toBe(1);
  });
});
