import { execFile, execFileSync } from "node:child_process";
import { DmaError } from "@dmabroker/core";

/** Whether network namespaces can be used here; when not, why (tests print it and skip). */
export type NetnsSupport = { ok: true } | { ok: false; reason: string };

/** Bound on each `ip` command. */
const IP_TIMEOUT_MS = 5000;

function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, { timeout: IP_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Namespaces not yet closed, deleted synchronously if the process exits without teardown. */
const live = new Set<string>();
process.once("exit", () => {
  for (const ns of live) {
    try {
      execFileSync("ip", ["netns", "del", ns], { timeout: IP_TIMEOUT_MS, stdio: "ignore" });
    } catch {
      // already gone
    }
  }
});

let counter = 0;
/** Names are unique per process and call: pid in every name. */
const nextNames = (): { ns: string; hostIf: string; nsIf: string } => {
  const n = counter++;
  // Interface names are at most 15 characters.
  const tag = `${process.pid.toString(36)}${n.toString(36)}`;
  return { ns: `dmabroker-${process.pid}-${n}`, hostIf: `dmbh${tag}`.slice(0, 15), nsIf: `dmbn${tag}`.slice(0, 15) };
};

/** A free 10.213.a.b/30 (checked against the addresses in use; pid-derived start). */
async function freeSubnet(): Promise<{ host: string; peer: string }> {
  const used = await ip(["-o", "-4", "addr", "show"]);
  const start = (process.pid * 64 + counter) % 16384;
  for (let i = 0; i < 16384; i++) {
    const k = (start + i) % 16384;
    const base = `10.213.${k >> 6}.`;
    const low = (k & 63) * 4;
    const host = `${base}${low + 1}`;
    const peer = `${base}${low + 2}`;
    if (!used.includes(` ${host}/`) && !used.includes(` ${peer}/`)) return { host, peer };
  }
  throw new Error("no free 10.213.0.0/16 /30 subnet");
}

/**
 * A network namespace joined to the host by a veth pair with private
 * addresses (a /30 in 10.213.0.0/16): the host side is `hostAddress`, the
 * namespace side `nsAddress`. A process started with `execPrefix()` runs
 * inside; `down()` / `up()` set the host end of the link down / up, which
 * silences the path like a pulled cable (established TCP connections stay,
 * packets are lost until `up()`). `close()` deletes namespace and veth.
 */
export class NetnsLink {
  private closing: Promise<void> | undefined;

  private constructor(
    /** Namespace name (`ip netns exec <name>`). */
    readonly name: string,
    readonly hostIf: string,
    readonly nsIf: string,
    readonly hostAddress: string,
    readonly nsAddress: string,
  ) {}

  /** Creates the namespace and its link; on any failure removes what it made and rethrows. */
  static async create(): Promise<NetnsLink> {
    const { ns, hostIf, nsIf } = nextNames();
    const { host, peer } = await freeSubnet();
    const link = new NetnsLink(ns, hostIf, nsIf, host, peer);
    live.add(ns);
    try {
      await ip(["netns", "add", ns]);
      await ip(["link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", ns]);
      await ip(["addr", "add", `${host}/30`, "dev", hostIf]);
      await ip(["link", "set", hostIf, "up"]);
      await ip(["-n", ns, "addr", "add", `${peer}/30`, "dev", nsIf]);
      await ip(["-n", ns, "link", "set", nsIf, "up"]);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
    } catch (err) {
      await link.close();
      throw err;
    }
    return link;
  }

  /** Prefix for a command that must run inside the namespace. */
  execPrefix(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /** Sets the host end of the link down: the namespace is cut off. */
  async down(): Promise<void> {
    this.checkOpen();
    await ip(["link", "set", this.hostIf, "down"]);
  }

  /** Sets the host end of the link up again (its address and route come back). */
  async up(): Promise<void> {
    this.checkOpen();
    await ip(["link", "set", this.hostIf, "up"]);
  }

  /** Deletes the namespace and the veth pair (either end deletes both). Idempotent; never throws. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await ip(["netns", "del", this.name]).catch(() => undefined);
      await ip(["link", "del", this.hostIf]).catch(() => undefined);
      live.delete(this.name);
    })();
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new DmaError("INVALID_ARGUMENT", `network namespace ${this.name} is closed`);
  }
}

let support: Promise<NetnsSupport> | undefined;

/**
 * Checks once per process whether `ip netns` and veth pairs work here (Linux,
 * root or CAP_NET_ADMIN) by creating and deleting a probe namespace.
 */
export function netnsSupport(): Promise<NetnsSupport> {
  support ??= (async (): Promise<NetnsSupport> => {
    if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
    try {
      const link = await NetnsLink.create();
      await link.close();
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `network namespaces are not permitted here: ${(err as Error).message}` };
    }
  })();
  return support;
}
