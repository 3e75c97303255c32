// The compose fault driver against a FAKE `docker` executable: there is no
// Docker engine (nor compose plugin) on this machine, so a small script stands
// in for docker, records the exact argv of every command it is asked to run,
// answers `compose ps -q` and `inspect` like docker does, and can be told to
// fail or hang. What is tested is the driver: the commands, their order, the
// bounded waits and the errors. Whether Docker then does the right thing is
// Docker's part (deploy/README.md has the manual run against a real stack).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COMPOSE_PROVIDER_SERVICES, ComposeCommandError, ComposeFaultDriver, podmanComposeDefaultProject } from "@dmabroker/testkit";

const dir = mkdtempSync(path.join(os.tmpdir(), "dmabroker-fake-docker-"));
const FAKE = path.join(dir, "docker");
writeFileSync(
  FAKE,
  `#!/bin/sh
# Fake docker for the compose driver test: records argv (fields split by 0x1f, then its pid), never touches a container.
{ printf '%s\\037' "$@"; echo "$$"; } >> "$FAKE_DOCKER_LOG"
for last in "$@"; do :; done
if [ -n "\${FAKE_DOCKER_HANG:-}" ] && case "$*" in *"$FAKE_DOCKER_HANG"*) true ;; *) false ;; esac; then
  exec sleep 600
elif [ -n "\${FAKE_DOCKER_FAIL:-}" ] && case "$*" in *"$FAKE_DOCKER_FAIL"*) true ;; *) false ;; esac; then
  echo "Error response from daemon: No such container: $last" >&2
  exit 1
fi
svc="\${last#label=com.docker.compose.service=}"
case " $* " in
  *" ps -q "* | *" ps -a -q "*) [ -n "\${FAKE_DOCKER_NO_CONTAINER:-}" ] || echo "c0ffee$svc" ;;
  " inspect "*) echo '{"dmabroker_default":{"Aliases":["x"]},"dmabroker_extra":{"Aliases":null}}' ;;
esac
exit 0
`,
);
chmodSync(FAKE, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** A driver bound to the fake docker and a fresh command log. */
function setup(extraEnv: Record<string, string> = {}, options: { commandTimeoutMs?: number; cli?: "docker" | "podman" } = {}) {
  const log = path.join(dir, `log-${++runs}.jsonl`);
  writeFileSync(log, "");
  const driver = new ComposeFaultDriver({
    services: { "ioat-0": "agent-ioat", "dsa-0": "agent-dsa" },
    project: "dmabroker",
    composeFile: "docker-compose.yml",
    dockerBin: FAKE,
    env: { ...process.env, FAKE_DOCKER_LOG: log, ...extraEnv },
    ...options,
  });
  return { driver, commands: () => recorded(log).map((r) => r.args.join(" ")), pids: () => recorded(log).map((r) => r.pid) };
}

/** The fake's log: one line per docker invocation, its argv then its pid. */
function recorded(log: string): { args: string[]; pid: number }[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const fields = line.split("\x1f");
      return { args: fields.slice(0, -1), pid: Number(fields.at(-1)) };
    });
}

const C = "compose -p dmabroker -f docker-compose.yml";

describe("ComposeFaultDriver (against a fake docker that records its commands)", () => {
  it("maps each fault to its docker compose command on the provider's service", async () => {
    const { driver, commands } = setup();
    expect(driver.name).toBe("compose");
    await driver.kill("dsa-0");
    await driver.restart("dsa-0");
    await driver.freeze("ioat-0");
    await driver.thaw("ioat-0");
    await driver.terminate("ioat-0");
    await driver.restart("ioat-0");
    expect(commands()).toEqual([
      `${C} kill -s KILL agent-dsa`,
      `${C} start agent-dsa`,
      `${C} pause agent-ioat`,
      `${C} unpause agent-ioat`,
      `${C} stop -t 10 agent-ioat`,
      `${C} start agent-ioat`,
    ]);
    await driver.close();
    expect(commands()).toHaveLength(6); // nothing left to undo
  });

  it("partitions by disconnecting the service's container from each of its networks, and heals by reconnecting it", async () => {
    const { driver, commands } = setup();
    await driver.partition!("dsa-0");
    await driver.partition!("dsa-0"); // already cut: nothing more to do
    await driver.heal!("dsa-0");
    await driver.heal!("dsa-0"); // already healed: nothing to do
    expect(commands()).toEqual([
      `${C} ps -q agent-dsa`,
      "inspect --format {{json .NetworkSettings.Networks}} c0ffeeagent-dsa",
      "network disconnect dmabroker_default c0ffeeagent-dsa",
      "network disconnect dmabroker_extra c0ffeeagent-dsa",
      "network connect --alias agent-dsa dmabroker_default c0ffeeagent-dsa",
      "network connect --alias agent-dsa dmabroker_extra c0ffeeagent-dsa",
    ]);
  });

  it("close() unpauses and reconnects whatever it still holds", async () => {
    const { driver, commands } = setup();
    await driver.freeze("ioat-0");
    await driver.partition!("dsa-0");
    const before = commands().length;
    await driver.close();
    expect(commands().slice(before)).toEqual([
      `${C} unpause agent-ioat`,
      "network connect --alias agent-dsa dmabroker_default c0ffeeagent-dsa",
      "network connect --alias agent-dsa dmabroker_extra c0ffeeagent-dsa",
    ]);
  });

  it("leaves -p and -f to compose when not given, and uses the repository's service names by default", async () => {
    const log = path.join(dir, "log-defaults.jsonl");
    writeFileSync(log, "");
    const driver = new ComposeFaultDriver({ dockerBin: FAKE, env: { ...process.env, FAKE_DOCKER_LOG: log }, stopTimeoutSec: 3 });
    await driver.terminate("plx-0");
    expect(recorded(log).map((r) => r.args.join(" "))).toEqual([`compose stop -t 3 ${COMPOSE_PROVIDER_SERVICES["plx-0"]}`]);
  });

  it("with cli podman: each fault is a podman command on the service's containers, found by their compose labels", async () => {
    const { driver, commands } = setup({}, { cli: "podman" });
    expect(driver.project).toBe("dmabroker");
    await driver.kill("dsa-0");
    await driver.restart("dsa-0");
    await driver.freeze("ioat-0");
    await driver.thaw("ioat-0");
    await driver.terminate("ioat-0");
    await driver.partition!("dsa-0");
    await driver.heal!("dsa-0");
    const sel = (svc: string) => `-q --filter label=com.docker.compose.project=dmabroker --filter label=com.docker.compose.service=${svc}`;
    expect(commands()).toEqual([
      `ps ${sel("agent-dsa")}`,
      "kill -s KILL c0ffeeagent-dsa",
      `ps -a ${sel("agent-dsa")}`, // start: stopped containers too
      "start c0ffeeagent-dsa",
      `ps ${sel("agent-ioat")}`,
      "pause c0ffeeagent-ioat",
      `ps -a ${sel("agent-ioat")}`, // unpause: paused ones too
      "unpause c0ffeeagent-ioat",
      `ps ${sel("agent-ioat")}`,
      "stop -t 10 c0ffeeagent-ioat",
      `ps ${sel("agent-dsa")}`,
      "inspect --format {{json .NetworkSettings.Networks}} c0ffeeagent-dsa",
      "network disconnect dmabroker_default c0ffeeagent-dsa",
      "network disconnect dmabroker_extra c0ffeeagent-dsa",
      "network connect --alias agent-dsa dmabroker_default c0ffeeagent-dsa",
      "network connect --alias agent-dsa dmabroker_extra c0ffeeagent-dsa",
    ]);
    const { driver: none } = setup({ FAKE_DOCKER_NO_CONTAINER: "1" }, { cli: "podman" });
    await expect(none.kill("dsa-0")).rejects.toThrow("service agent-dsa of project dmabroker has no running container");
    expect(() => new ComposeFaultDriver({ cli: "lxc" as "docker" })).toThrow(/cli must be docker or podman/);
  });

  it("with cli podman and no project: podman-compose's default, the compose file's directory name normalised", () => {
    expect(podmanComposeDefaultProject("docker-compose.yml", "/src/My Repo.v2")).toBe("myrepov2");
    expect(podmanComposeDefaultProject("/elsewhere/dm_a-b/compose.yml", "/src")).toBe("dm_a-b");
    expect(new ComposeFaultDriver({ cli: "podman", cwd: "/work/dmabroker" }).project).toBe("dmabroker");
  });

  it("fails with an error naming the command, its exit code and docker's message", async () => {
    const { driver } = setup({ FAKE_DOCKER_FAIL: "kill" });
    const err = await driver.kill("dsa-0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeCommandError);
    const e = err as ComposeCommandError;
    expect(e.message).toContain(`${FAKE} ${C} kill -s KILL agent-dsa: exit 1`);
    expect(e.message).toContain("No such container: agent-dsa");
    expect(e.exitCode).toBe(1);
    expect(e.timedOut).toBe(false);
  });

  it("bounds every command: a hung docker is killed and the call fails naming it", async () => {
    const { driver, pids } = setup({ FAKE_DOCKER_HANG: "pause" }, { commandTimeoutMs: 300 });
    const err = await driver.freeze("ioat-0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeCommandError);
    expect((err as ComposeCommandError).message).toContain(`${C} pause agent-ioat: timed out after 300 ms (killed)`);
    expect((err as ComposeCommandError).timedOut).toBe(true);
    const [pid] = pids();
    expect(() => process.kill(pid, 0), "the hung fake docker was killed").toThrow();
    await driver.close(); // the failed pause is not recorded as held
  });

  it("refuses an unknown provider, a missing docker and a service without a container, saying which", async () => {
    const { driver } = setup();
    await expect(driver.kill("xyz-9")).rejects.toThrow('no compose service for provider "xyz-9"; known: ioat-0, dsa-0');
    const missing = new ComposeFaultDriver({ dockerBin: path.join(dir, "no-such-docker") });
    await expect(missing.kill("ioat-0")).rejects.toThrow(/no-such-docker compose kill -s KILL agent-ioat: could not run \(ENOENT\)/);
    const { driver: empty } = setup({ FAKE_DOCKER_NO_CONTAINER: "1" });
    await expect(empty.partition!("dsa-0")).rejects.toThrow("service agent-dsa has no running container");
    expect(existsSync(FAKE)).toBe(true);
  });
});
