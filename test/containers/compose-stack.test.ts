// `docker compose up` for real, under rootful podman: the image built from
// deploy/docker/Dockerfile (unmodified), docker-compose.yml brought up (its own
// project name per run, free published ports), and what a user would check:
// health, byte-correct transfers, and what happens to the workload when a
// provider container is killed, restarted, frozen, cut off the network or
// stopped, and when the broker container dies. Faults go through the chaos
// suite's ComposeFaultDriver (cli podman), so that driver is tested for real
// here too. Skipped, with the reason printed, where podman, root or the base
// image are missing (`.ci/run` prepares them on Debian as root).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, DmaBrokerError } from "@dmabroker/client";
import { AdminApi, COMPOSE_PROVIDER_SERVICES, ComposeFaultDriver, composeChaosTarget, runChaos } from "@dmabroker/testkit";
import type { ProviderSnapshot as AdminProvider } from "@dmabroker/core";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "@dmabroker/testkit";
import { AGENTS, EventTap, PodmanStack, buildImage, freePort, monitoringUnavailableReason, must, unavailableReason } from "./podman-stack.js";
import type { Service } from "./podman-stack.js";

const reason = await unavailableReason();
if (reason) console.log(`container suite skipped: ${reason}`);
const monitoringReason = reason ?? (await monitoringUnavailableReason());
if (!reason && monitoringReason) console.log(`monitoring profile (prometheus) skipped: ${monitoringReason}`);
// Grafana (the profile's other service) cannot run here: no image can be pulled, and Grafana is
// neither in Debian's archive nor on npm, so there is nothing to build a stand-in from (deploy/README.md).

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const serviceOf = (providerId: string): Service => COMPOSE_PROVIDER_SERVICES[providerId] as Service;
/** Short enough for the records-back-to-baseline check of the chaos run at the end. */
const TOMBSTONE_TTL_MS = 2_000;
/** The broker's default heartbeat timeout (docker-compose.yml does not change it). */
const HEARTBEAT_TIMEOUT_MS = 1_500;

/** Measured numbers, printed at the end (build, up, detection times). */
const measured: Record<string, number | string> = {};

describe.skipIf(reason !== undefined)("docker-compose.yml under podman", () => {
  const project = `dmabroker-ct-${process.pid}-${Date.now().toString(36)}`;
  let stack: PodmanStack;
  let admin: AdminApi;
  let adminUrl: string;
  let grpcAddress: string;
  let prometheusUrl: string;
  let driver: ComposeFaultDriver;
  let events: EventTap | undefined;
  let brokerKilledAt = 0;
  let brokerDown = false;

  /** Polls until `check` returns a value; throws after timeoutMs with `what`. */
  async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  const online = (id: string): Promise<AdminProvider | undefined> =>
    admin.providers().then((ps) => ps.find((p) => p.providerId === id && p.state === "online"));

  /** A shared-lease provider with transfers in flight right now (plx-0 is private: the workload never leases it). */
  async function busyProvider(): Promise<AdminProvider> {
    return until("a provider with transfers in flight", 30_000, async () =>
      (await admin.providers()).find((p) => p.state === "online" && p.providerId !== "plx-0" && p.channels.some((c) => c.outstanding > 0)),
    );
  }

  beforeAll(async () => {
    const [grpcPort, adminPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    grpcAddress = `127.0.0.1:${grpcPort}`;
    adminUrl = `http://127.0.0.1:${adminPort}`;
    admin = new AdminApi(adminUrl);
    stack = new PodmanStack(project, {
      DMABROKER_PUBLISH_GRPC_PORT: String(grpcPort),
      DMABROKER_PUBLISH_ADMIN_PORT: String(adminPort),
      DMABROKER_LEASE_TOMBSTONE_TTL_MS: String(TOMBSTONE_TTL_MS),
      DMABROKER_PUBLISH_PROMETHEUS_PORT: String(prometheusPort),
    });
    driver = new ComposeFaultDriver({ cli: "podman", project, stopTimeoutSec: 10 });
    measured.build_ms = await buildImage();
    const t0 = Date.now();
    await stack.up();
    await stack.waitHealthy("broker");
    for (const a of AGENTS) await stack.waitHealthy(a);
    measured.up_to_healthy_ms = Date.now() - t0;
    events = new EventTap(adminUrl);
    console.log(`project ${project}: image built in ${measured.build_ms} ms, stack up and healthy in ${measured.up_to_healthy_ms} ms`);
  }, 10 * 60_000);

  afterAll(async () => {
    await events?.close();
    await driver?.close().catch(() => undefined);
    console.log(`container suite measurements: ${JSON.stringify(measured)}`);
    const left = await stack?.remove();
    expect(left ?? [], "containers or network left after teardown").toEqual([]);
  }, 120_000);

  it("brings up the broker and three agents healthy, with the tombstone TTL interpolated from the shell", async () => {
    for (const s of ["broker", ...AGENTS] as const) expect(await stack.healthy(s), s).toBe(true);
    const ps = await admin.providers();
    expect(
      ps
        .filter((p) => p.state === "online")
        .map((p) => p.providerId)
        .sort(),
    ).toEqual(["dsa-0", "ioat-0", "plx-0"]);
    expect((await stack.env("broker")).DMABROKER_LEASE_TOMBSTONE_TTL_MS).toBe(String(TOMBSTONE_TTL_MS));
    expect((await stack.state("workload")).status).toBe("running");
  });

  it("runs the workload's transfers byte-correct on every op", async () => {
    const lines = await until("200 workload results", 60_000, async () => {
      const l = await stack.jsonLogs("workload");
      return l.filter((x) => x.event === "result").length >= 200 ? l : undefined;
    });
    const results = lines.filter((x) => x.event === "result");
    expect(
      results.filter((r) => r.ok !== true),
      "results with wrong bytes",
    ).toEqual([]);
    expect(results.filter((r) => r.result === "NOERROR").length).toBeGreaterThan(150);
    expect(new Set(lines.filter((x) => x.event === "lease").map((x) => x.op))).toEqual(new Set(["memcpy", "fill", "xor", "crc32c"]));
    expect(new Set(results.map((r) => r.provider_id)).size, "both shared providers used").toBeGreaterThanOrEqual(2);
    measured.workload_results_seen = results.length;
  });

  it.skipIf(monitoringReason !== undefined)(
    "monitoring profile: Prometheus scrapes the broker over the compose network, loads the alert rules, and every dashboard query runs on it",
    async () => {
      const t0 = Date.now();
      await stack.upMonitoring();
      const prom = async <T>(route: string): Promise<T> => {
        const res = await fetch(`${prometheusUrl}${route}`, { signal: AbortSignal.timeout(5_000) });
        const body = (await res.json()) as { status: string; data: T; error?: string };
        if (body.status !== "success") throw new Error(`prometheus ${route}: ${body.error ?? res.status}`);
        return body.data;
      };
      type Targets = { activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string; lastError: string }[] };
      // Scrapes every 5 s (deploy/prometheus/prometheus.yml): the broker's target is up once one scrape went through.
      const target = await until("the broker's scrape target up", 60_000, async () =>
        (await prom<Targets>("/api/v1/targets")).activeTargets.find((t) => t.labels.job === "dmabroker-broker" && t.health === "up"),
      );
      expect(target.scrapeUrl).toBe("http://broker:8080/metrics");
      measured.prometheus_up_to_scraped_ms = Date.now() - t0;
      // The alert rules as deploy/prometheus/alerts.yml has them, loaded and evaluated without error.
      const file = parseYaml(readFileSync(path.join(REPO_ROOT, "deploy/prometheus/alerts.yml"), "utf8")) as { groups: { rules: { alert?: string }[] }[] };
      const wanted = file.groups
        .flatMap((g) => g.rules.map((r) => r.alert))
        .filter(Boolean)
        .sort();
      type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      const loaded = await until("the alert rules evaluated", 30_000, async () => {
        const rs = (await prom<Rules>("/api/v1/rules")).groups.flatMap((g) => g.rules);
        return rs.length === wanted.length && rs.every((r) => r.health === "ok") ? rs : undefined;
      });
      expect(loaded.map((r) => r.name).sort()).toEqual(wanted);
      // The broker is up as Prometheus sees it, and its own series arrived.
      type Vector = { result: { metric: Record<string, string>; value: [number, string] }[] };
      expect((await prom<Vector>(`/api/v1/query?query=${encodeURIComponent('up{job="dmabroker-broker"}')}`)).result.map((r) => r.value[1])).toEqual(["1"]);
      // Every Grafana panel's query (Grafana's own interval variables substituted) is valid PromQL on this
      // Prometheus and the broker's metrics; what Grafana itself would draw is not checked (no Grafana here).
      const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, "deploy/grafana/dashboards/dmabroker.json"), "utf8")) as { panels: Panel[] };
      interface Panel {
        title: string;
        targets?: { expr: string }[];
        panels?: Panel[];
      }
      const exprs = dashboard.panels
        .flatMap((p) => [p, ...(p.panels ?? [])])
        .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "1m") })));
      expect(exprs.length).toBeGreaterThan(0);
      const failed: string[] = [];
      let withData = 0;
      for (const { panel, expr } of exprs) {
        try {
          if ((await prom<Vector>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result.length > 0) withData++;
        } catch (err) {
          failed.push(`${panel}: ${(err as Error).message}`);
        }
      }
      expect(failed).toEqual([]);
      expect(withData, "dashboard queries with data from the live broker").toBeGreaterThan(0);
      measured.dashboard_queries_with_data = `${withData}/${exprs.length}`;
    },
    120_000,
  );

  it("SIGKILL of a provider container mid-transfer: its in-flight transfers end ABORTED / PROVIDER_GONE, the workload goes on elsewhere", async () => {
    // "In flight" is sampled from the admin API just before the kill; on a loaded machine those
    // transfers may finish first, so up to three kills, each followed by a start (a new epoch).
    let gone: Record<string, unknown>[] = [];
    for (let attempt = 1; attempt <= 3 && gone.length === 0; attempt++) {
      const victim = await busyProvider();
      const service = serviceOf(victim.providerId);
      const at = Date.now();
      await driver.kill(victim.providerId);
      try {
        const lost = await events!.waitForProviderState(victim, "lost", 10_000, at - 100);
        measured.kill_to_lost_ms = lost.atMs - at;
        measured.kill_lost_cause = String(lost.cause);
        // Every lease the workload held on it ends PROVIDER_GONE, with or without transfers in flight.
        const ends = await until("the workload's leases on the victim ending PROVIDER_GONE", 15_000, async () => {
          const l = (await stack.jsonLogs("workload", at - 50)).filter(
            (x) => x.event === "lease_end" && x.provider_id === victim.providerId && x.epoch === victim.epoch,
          );
          return l.length > 0 ? l : undefined;
        });
        expect(ends.filter((e) => e.reason !== "PROVIDER_GONE" && e.reason !== "LEASE_RELEASED")).toEqual([]);
        await sleep(1_000);
        const results = (await stack.jsonLogs("workload", at - 50)).filter(
          (x) => x.event === "result" && x.provider_id === victim.providerId && x.epoch === victim.epoch,
        );
        const aborted = results.filter((r) => r.reason === "PROVIDER_GONE");
        expect(aborted.every((r) => r.result === "ABORTED" && r.ok === true)).toBe(true);
        if (aborted.length > 0) {
          gone = aborted;
          measured.kill_to_first_provider_gone_ms = (aborted[0]!.time as number) - at;
          measured.kill_victim = `${victim.providerId}#${victim.epoch}`;
          measured.kill_aborted = aborted.length;
          measured.kill_attempts = attempt;
          // The workload carries on: byte-correct results from another provider after the abort.
          const lastGone = aborted.at(-1)!.time as number;
          await until("NOERROR on another provider after the kill", 20_000, async () =>
            (await stack.jsonLogs("workload", lastGone)).some((x) => x.event === "result" && x.provider_id !== victim.providerId && x.result === "NOERROR")
              ? true
              : undefined,
          );
          // restart: unless-stopped does not bring back a container killed on purpose.
          expect((await stack.state(service)).status).toBe("exited");
        }
      } finally {
        // Started again: the same container, a new process, a new incarnation (epoch).
        const t0 = Date.now();
        await driver.restart(victim.providerId);
        await stack.waitHealthy(service, 30_000);
        const back = await until("a new epoch online", 30_000, () => online(victim.providerId));
        expect(back.epoch).not.toBe(victim.epoch);
        measured.start_to_healthy_ms = Date.now() - t0;
      }
    }
    expect(gone.length, "transfers in flight on the killed provider ended ABORTED / PROVIDER_GONE").toBeGreaterThan(0);
  });

  it("pause / unpause: a short freeze changes nothing; a long one makes the provider suspect, then lost, and it comes back as a new epoch", async () => {
    const victim = await until("ioat-0 online", 30_000, () => online("ioat-0"));
    await driver.freeze("ioat-0");
    await sleep(300);
    await driver.thaw("ioat-0");
    await sleep(HEARTBEAT_TIMEOUT_MS + 500);
    expect((await online("ioat-0"))?.epoch, "a 300 ms freeze keeps the incarnation").toBe(victim.epoch);

    const at = Date.now();
    await driver.freeze("ioat-0");
    try {
      const suspect = await events!.waitForProviderState(victim, "suspect", 10_000, at - 100);
      const lost = await events!.waitForProviderState(victim, "lost", 10_000, at - 100);
      measured.pause_to_suspect_ms = suspect.atMs - at;
      measured.pause_to_lost_ms = lost.atMs - at;
      expect(lost.atMs).toBeGreaterThanOrEqual(suspect.atMs);
      expect(lost.cause).toBe("heartbeat_timeout");
    } finally {
      await driver.thaw("ioat-0");
    }
    const back = await until("ioat-0 back as a new epoch", 30_000, () => online("ioat-0"));
    expect(back.epoch).not.toBe(victim.epoch);
    await stack.waitHealthy("agent-ioat", 30_000);
  });

  it("network disconnect / connect: the provider is partitioned away (lost) and heals as a new epoch", async () => {
    const victim = await until("dsa-0 online", 30_000, () => online("dsa-0"));
    const at = Date.now();
    await driver.partition!("dsa-0");
    try {
      const lost = await events!.waitForProviderState(victim, "lost", 15_000, at - 100);
      measured.disconnect_to_lost_ms = lost.atMs - at;
      expect(await stack.healthy("agent-dsa"), "a partitioned agent is unhealthy").toBe(false);
    } finally {
      await driver.heal!("dsa-0");
    }
    const t0 = Date.now();
    const back = await until("dsa-0 back after connect", 45_000, () => online("dsa-0"));
    measured.connect_to_online_ms = Date.now() - t0;
    expect(back.epoch).not.toBe(victim.epoch);
    await stack.waitHealthy("agent-dsa", 30_000);
  });

  it("stop: the agent drains, says goodbye and exits 0", async () => {
    const victim = await until("ioat-0 online", 30_000, () => online("ioat-0"));
    const at = Date.now();
    await driver.terminate("ioat-0");
    measured.stop_ms = Date.now() - at;
    const draining = await events!.waitForProviderState(victim, "draining", 5_000, at - 100);
    const removed = await events!.waitForProviderState(victim, "removed", 5_000, at - 100);
    expect(removed.cause).toBe("goodbye");
    expect(removed.atMs).toBeGreaterThanOrEqual(draining.atMs);
    expect(await stack.state("agent-ioat")).toEqual({ status: "exited", exitCode: 0 });
    expect((await stack.jsonLogs("agent-ioat", at)).some((l) => l.msg === "drain finished")).toBe(true);
    await driver.restart("ioat-0");
    await stack.waitHealthy("agent-ioat", 30_000);
  });

  it("broker container killed: clients get named errors, and recover once it is started again", async () => {
    const client = await BrokerClient.connect({ address: grpcAddress, clientId: "container-suite", timeoutMs: 3_000 });
    try {
      const lease = await client.requestChannel({ capabilities: ["memcpy"], timeoutMs: 5_000 });
      const ipBefore = await stack.address("broker");
      const at = (brokerKilledAt = Date.now());
      await must("podman", ["kill", "-s", "KILL", stack.container("broker")]); // podman-compose 1.0.3 has no kill
      brokerDown = true;
      // The host client: its lease ends TRANSPORT_FAILURE and new calls fail with a named reason: the
      // published port forwards to a container that is gone, so a connect may go unanswered until
      // the call's deadline (DEADLINE_EXCEEDED) rather than be refused (TRANSPORT_FAILURE).
      expect(await lease.ended).toEqual({ state: "provider_gone", reason: "TRANSPORT_FAILURE" });
      const err = await client.requestChannel({ capabilities: ["memcpy"], timeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DmaBrokerError);
      expect(["TRANSPORT_FAILURE", "DEADLINE_EXCEEDED"]).toContain((err as DmaBrokerError).reason);
      measured.host_call_while_broker_down = (err as DmaBrokerError).reason;
      // The workload in its container: leases end TRANSPORT_FAILURE, nothing unnamed, it keeps running.
      const ends = await until("the workload's leases ending TRANSPORT_FAILURE", 15_000, async () => {
        const l = (await stack.jsonLogs("workload", at - 50)).filter((x) => x.event === "lease_end");
        return l.some((e) => e.reason === "TRANSPORT_FAILURE") ? l : undefined;
      });
      // (a lease released just before the kill may log its LEASE_RELEASED end after it)
      expect(ends.filter((e) => e.reason !== "TRANSPORT_FAILURE" && e.reason !== "LEASE_RELEASED")).toEqual([]);
      expect((await stack.jsonLogs("workload", at - 50)).filter((x) => x.unnamed === true || x.event === "slow_call")).toEqual([]);
      expect((await stack.state("workload")).status).toBe("running");

      // Started again on its volume (perhaps on a new IP): every agent attaches again, the workload leases anew.
      const t0 = Date.now();
      await must("podman", ["start", stack.container("broker")]);
      brokerDown = false;
      await stack.waitHealthy("broker", 60_000);
      measured.broker_address_changed = String((await stack.address("broker")) !== ipBefore);
      await until("three providers online", 60_000, async () =>
        (await admin.providers()).filter((p) => p.state === "online").length === 3 ? true : undefined,
      ).catch(async (err: unknown) => {
        // Say which agent did not come back, and what it and the broker logged.
        const states = (await admin.providers().catch(() => [])).map((p) => `${p.providerId}#${p.epoch} ${p.state}`).join(", ");
        const tails = await Promise.all(
          ["broker", ...AGENTS].map(async (s) => `--- ${s}\n${(await stack.logs(s as Service, t0)).trim().split("\n").slice(-6).join("\n")}`),
        );
        throw new Error(`${(err as Error).message}; providers: ${states || "none"}\n${tails.join("\n")}`);
      });
      measured.broker_start_to_agents_online_ms = Date.now() - t0;
      await until("NOERROR results after the broker came back", 60_000, async () =>
        (await stack.jsonLogs("workload", t0)).some((x) => x.event === "result" && x.result === "NOERROR") ? true : undefined,
      );
      measured.broker_start_to_workload_noerror_ms = Date.now() - t0;
      // The workload's SDK (inside the compose network) recovered on its own, above: that is the check.
      // The host's side is only measured: podman publishes ports as iptables DNAT rules, not a proxy, and
      // after the broker container came back on a new address the published port was seen to hang even
      // for a new connection (podman/netavark's, not the SDK's; deploy/README.md). Docker's proxy differs.
      measured.host_client_after_restart = await client
        .requestChannel({ capabilities: ["memcpy"], timeoutMs: 5_000 })
        .then(async (l) => {
          await l.release();
          return "leased again";
        })
        .catch((e: unknown) => `not within 5 s: ${e instanceof DmaBrokerError ? e.reason : String(e)}`);
      for (const a of AGENTS) await stack.waitHealthy(a, 30_000);
    } finally {
      client.close();
      // Whatever failed above, the next tests need a broker.
      if (brokerDown) await must("podman", ["start", stack.container("broker")]).then(() => stack.waitHealthy("broker", 60_000));
    }
  });

  it("chaos through the compose driver (podman): every fault kind compose supports, 0 violations, with the stack's own workload still leasing", async () => {
    const target = composeChaosTarget({
      cli: "podman",
      project,
      grpcAddress,
      adminUrl,
      leaseTombstoneTtlMs: TOMBSTONE_TTL_MS,
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    });
    try {
      const summary = await runChaos(target, {
        seed: 20261202,
        durationMs: 20_000,
        clients: 3,
        everyKindFirst: true,
        mode: "dist",
        onFault: (l) => console.log(`fault ${l}`),
      });
      console.log(
        `chaos (compose, podman): ${JSON.stringify({ faults: summary.faults, hitting: summary.faults_hitting_leases, cookies: summary.cookies, detection_ms: summary.detection_ms })}`,
      );
      expect(summary.violation_details).toEqual([]);
      expect(summary.cookies.lost).toBe(0);
      for (const kind of ["kill", "freeze", "terminate", "partition", "unbind_force", "unbind_drain", "channel_remove", "client_kill"] as const) {
        expect({ kind, injected: (summary.faults[kind] ?? 0) > 0 }).toEqual({ kind, injected: true });
      }
      expect(Object.keys(summary.skipped).sort()).toEqual(["broker_restart", "duplicate", "reset"]);
      const total = Object.values(summary.faults).reduce((a, b) => a + b, 0);
      const hit = Object.values(summary.faults_hitting_leases).reduce((a, b) => a + b, 0);
      expect(hit / total, "most faults hit a provider carrying the run's leases").toBeGreaterThan(0.5);
    } finally {
      await target.stop();
    }
    // The stack's own workload kept its books straight through all of it.
    for (const a of AGENTS) await stack.waitHealthy(a, 30_000);
  }, 180_000);

  it("the workload stops cleanly with 0 violations and no wrong bytes", async () => {
    const at = Date.now();
    await must("podman", ["stop", "-t", "15", stack.container("workload")], { timeoutMs: 30_000 });
    const summary = (await stack.jsonLogs("workload", at - 50)).find((l) => l.event === "workload.summary");
    expect(summary, "workload.summary logged on SIGTERM").toBeDefined();
    expect(summary!.violations).toBe(0);
    expect(summary!.corrupt).toBe(0);
    expect(summary!.completed as number).toBeGreaterThan(1000);
    measured.workload_completed = summary!.completed as number;
    // Cookies in flight when the broker died were answered by no one: the workload counts them lost
    // (with a named reason) and so exits 1; nothing else may be lost. With the store the SDK keeps a
    // lease's watch reopening for up to 15 s, so such a cookie is declared lost only after the
    // workload's 15 s wait: up to ~35 s after the kill. (Known gap of the durable-store work: they
    // should end BROKER_RESTARTED instead; docs/store.md.)
    const lost = (await stack.jsonLogs("workload")).filter((l) => l.event === "lost");
    expect(summary!.lost).toBe(lost.length);
    const named = new Set(["TRANSPORT_FAILURE", "DEADLINE_EXCEEDED"]);
    expect(lost.filter((l) => !named.has(String(l.reason)) || (l.time as number) < brokerKilledAt || (l.time as number) > brokerKilledAt + 40_000)).toEqual([]);
    expect((await stack.state("workload")).exitCode).toBe(lost.length > 0 ? 1 : 0);
  });
});
