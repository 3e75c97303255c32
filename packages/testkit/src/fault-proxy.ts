import net from "node:net";
import { DmaError } from "@dmabroker/core";

/**
 * What a FaultProxy does with traffic:
 * - `pass`: forwards (subject to latency and bandwidth settings);
 * - `blackhole`: a silent partition. Sockets stay open, nothing is forwarded
 *   in either direction: the proxy stops reading (so senders' bytes pile up
 *   in kernel buffers, as unacknowledged data would) and holds what it had
 *   already read. Nothing is dropped: on `pass` the held bytes flow in order,
 *   like TCP retransmitting after a healed partition. New connections are
 *   accepted but stay silent too.
 * - `reset`: every connection is reset (RST on both sides) now, and every new
 *   one is reset on arrival, while the mode is set.
 */
export type FaultMode = "pass" | "blackhole" | "reset";

/** `upstream`: client → target; `downstream`: target → client. */
export type ProxyDirection = "upstream" | "downstream" | "both";

export interface FaultProxyOptions {
  /** host:port to forward to. */
  target: string;
  /** Where to listen; 127.0.0.1 unless told. */
  host?: string;
  /** 0 (default) lets the OS choose. */
  port?: number;
}

/** Counters since start. */
export interface FaultProxyStats {
  connectionsAccepted: number;
  connectionsOpen: number;
  /** Connections the proxy reset (mode `reset`). */
  connectionsReset: number;
  /** Bytes read from clients / from the target. */
  bytesUpstream: number;
  bytesDownstream: number;
}

/** Largest piece written at once under a bandwidth cap (smooths the rate). */
const MAX_PIECE_BYTES = 16 * 1024;
/** Bytes held per direction before the proxy stops reading (back-pressure). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

interface Shaping {
  latencyMs: number;
  bytesPerSec: number | undefined;
}

/** One direction of one connection: a FIFO of chunks, released by the proxy's mode and shaping. */
class Pipe {
  private readonly queue: { data: Buffer | null; due: number }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  /** Earliest time the bandwidth cap lets the next byte go. */
  private nextFreeAt = 0;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly proxy: FaultProxy,
    private readonly shaping: () => Shaping,
    private readonly count: (n: number) => void,
  ) {
    src.on("data", (chunk: Buffer) => {
      this.count(chunk.length);
      this.push(chunk);
    });
    src.on("end", () => this.push(null));
    dst.on("drain", () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  private push(data: Buffer | null): void {
    this.queue.push({ data, due: performance.now() + this.shaping().latencyMs });
    if (data) this.queuedBytes += data.length;
    if (this.queuedBytes > HIGH_WATER_BYTES) this.src.pause();
    this.pump();
  }

  /** Forwards what the mode, latency, bandwidth and the destination allow now; schedules the rest. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.proxy.mode !== "pass" || this.dst.destroyed) return;
    const { bytesPerSec } = this.shaping();
    for (let head = this.queue[0]; head !== undefined && !this.waitingDrain; head = this.queue[0]) {
      const now = performance.now();
      const wait = Math.max(head.due - now, bytesPerSec ? this.nextFreeAt - now : 0);
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
        return;
      }
      if (head.data === null) {
        this.queue.shift();
        this.dst.end();
        continue;
      }
      let piece = head.data;
      if (bytesPerSec) {
        const max = Math.max(1, Math.min(MAX_PIECE_BYTES, Math.floor(bytesPerSec / 50)));
        if (piece.length > max) {
          head.data = piece.subarray(max);
          piece = piece.subarray(0, max);
        } else this.queue.shift();
        this.nextFreeAt = Math.max(now, this.nextFreeAt) + (piece.length * 1000) / bytesPerSec;
      } else this.queue.shift();
      this.queuedBytes -= piece.length;
      if (!this.dst.write(piece)) this.waitingDrain = true;
    }
    if (this.queuedBytes <= HIGH_WATER_BYTES / 2) this.resumeReading();
  }

  resumeReading(): void {
    if (this.proxy.mode === "pass" && this.queuedBytes <= HIGH_WATER_BYTES / 2 && !this.src.destroyed) this.src.resume();
  }

  stopReading(): void {
    this.src.pause();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

/** A client connection and its connection to the target. */
interface Link {
  client: net.Socket;
  target: net.Socket;
  pipes: Pipe[];
}

const parseTarget = (target: string): { host: string; port: number } => {
  const m = /^\[?(?<host>[^\]]+?)\]?:(?<port>\d{1,5})$/.exec(target)?.groups;
  const port = Number(m?.port);
  if (!m?.host || !(port > 0 && port < 65536)) throw new DmaError("INVALID_ARGUMENT", `fault proxy target must be host:port, got ${JSON.stringify(target)}`);
  return { host: m.host, port };
};

/**
 * A TCP proxy for fault injection (docs/design.md §5): sits between an agent and
 * the broker and, switchable at runtime, forwards, blackholes or resets the
 * traffic, and adds latency (per chunk, per direction, order preserved) or a
 * bandwidth cap (bytes/s, per direction). Listens on 127.0.0.1 with an
 * OS-chosen port unless told otherwise.
 */
export class FaultProxy {
  private modeValue: FaultMode = "pass";
  private readonly links = new Set<Link>();
  private readonly shapingBy: Record<"upstream" | "downstream", Shaping> = {
    upstream: { latencyMs: 0, bytesPerSec: undefined },
    downstream: { latencyMs: 0, bytesPerSec: undefined },
  };
  private readonly counters: FaultProxyStats = {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    connectionsReset: 0,
    bytesUpstream: 0,
    bytesDownstream: 0,
  };
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
    /** host:port clients connect to. */
    readonly address: string,
  ) {
    server.on("connection", (socket) => this.onConnection(socket));
  }

  /** Starts listening; resolves once the port is known. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const target = parseTarget(options.target);
    const host = options.host ?? "127.0.0.1";
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as net.AddressInfo).port;
    return new FaultProxy(server, target, `${host.includes(":") ? `[${host}]` : host}:${port}`);
  }

  get mode(): FaultMode {
    return this.modeValue;
  }

  /** Switches the mode for every current and future connection (see FaultMode). */
  setMode(mode: FaultMode): void {
    if (mode !== "pass" && mode !== "blackhole" && mode !== "reset") {
      throw new DmaError("INVALID_ARGUMENT", `fault proxy mode must be pass, blackhole or reset, got ${JSON.stringify(mode)}`);
    }
    this.modeValue = mode;
    for (const link of [...this.links]) {
      if (mode === "reset") this.reset(link);
      else if (mode === "blackhole") for (const p of link.pipes) p.stopReading();
      else
        for (const p of link.pipes) {
          p.resumeReading();
          p.pump();
        }
    }
  }

  /** Adds `ms` of delay to every chunk (0 removes it). Order is preserved. */
  setLatency(ms: number, direction: ProxyDirection = "both"): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new DmaError("INVALID_ARGUMENT", `latency must be a number of ms ≥ 0, got ${ms}`);
    for (const d of this.directions(direction)) this.shapingBy[d].latencyMs = ms;
  }

  /** Caps throughput at `bytesPerSec` (undefined or 0 removes the cap). */
  setBandwidth(bytesPerSec: number | undefined, direction: ProxyDirection = "both"): void {
    if (bytesPerSec !== undefined && !(Number.isFinite(bytesPerSec) && bytesPerSec >= 0)) {
      throw new DmaError("INVALID_ARGUMENT", `bandwidth must be bytes/s ≥ 0, got ${bytesPerSec}`);
    }
    for (const d of this.directions(direction)) this.shapingBy[d].bytesPerSec = bytesPerSec || undefined;
  }

  /** A copy of the counters. */
  stats(): FaultProxyStats {
    return { ...this.counters, connectionsOpen: this.links.size };
  }

  /** Stops listening and ends every connection (destroys its sockets). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const link of [...this.links]) this.drop(link, false);
      await closed;
    })();
    return this.closing;
  }

  private directions(direction: ProxyDirection): ("upstream" | "downstream")[] {
    if (direction === "both") return ["upstream", "downstream"];
    if (direction === "upstream" || direction === "downstream") return [direction];
    throw new DmaError("INVALID_ARGUMENT", `direction must be upstream, downstream or both, got ${JSON.stringify(direction)}`);
  }

  private onConnection(client: net.Socket): void {
    this.counters.connectionsAccepted++;
    if (this.closing) {
      client.destroy();
      return;
    }
    if (this.modeValue === "reset") {
      this.counters.connectionsReset++;
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const target = net.connect({ ...this.target, allowHalfOpen: true });
    target.pause();
    const link: Link = { client, target, pipes: [] };
    this.links.add(link);
    link.pipes.push(
      new Pipe(
        client,
        target,
        this,
        () => this.shapingBy.upstream,
        (n) => (this.counters.bytesUpstream += n),
      ),
      new Pipe(
        target,
        client,
        this,
        () => this.shapingBy.downstream,
        (n) => (this.counters.bytesDownstream += n),
      ),
    );
    // An abrupt end on one side (RST, error) resets the other; a clean close
    // of both ends the link.
    const onError = (): void => this.drop(link, true);
    client.on("error", onError);
    target.on("error", onError);
    let closed = 0;
    const onClose = (): void => {
      if (++closed === 2) this.drop(link, false);
    };
    client.on("close", onClose);
    target.on("close", onClose);
    target.once("connect", () => {
      if (this.modeValue === "pass") for (const p of link.pipes) p.resumeReading();
    });
  }

  private reset(link: Link): void {
    this.counters.connectionsReset++;
    this.drop(link, true);
  }

  private drop(link: Link, rst: boolean): void {
    if (!this.links.delete(link)) return;
    for (const p of link.pipes) p.close();
    for (const s of [link.client, link.target]) {
      if (s.destroyed) continue;
      if (rst && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
  }
}
