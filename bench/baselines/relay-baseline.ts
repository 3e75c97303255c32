import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { spawnOwned } from "../lib/children.js";
import type { OwnedChild } from "../lib/children.js";
import { RELAY_CHANNEL_OPTIONS, loadRelay } from "./relay-proto.js";
import type { Batch } from "./relay-proto.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function startTs(file: string, args: string[], name: string): OwnedChild {
  return spawnOwned(process.execPath, ["--conditions=@dmabroker/source", "--import", "tsx", path.join(HERE, file), ...args], {
    name,
    env: { NODE_OPTIONS: "" },
  });
}

async function portOf(child: OwnedChild, name: string): Promise<number> {
  const line = await child.waitForLine((l) => l.includes('"ready":true'), 30_000, `${name} ready`);
  return (JSON.parse(line) as { port: number }).port;
}

/**
 * The bare relay baseline as two real processes (echo and relay) plus a
 * client stream: `roundTrip(items)` sends one batch through relay and echo
 * and resolves when it is back. Several round trips may be in flight.
 */
export class RelayBaseline {
  private nextId = 1;
  private readonly waiting = new Map<number, (b: Batch) => void>();
  private failure: Error | undefined;

  private constructor(
    private readonly processes: OwnedChild[],
    private readonly client: grpc.Client,
    private readonly stream: grpc.ClientDuplexStream<Batch, Batch>,
  ) {
    stream.on("data", (b: Batch) => {
      const w = this.waiting.get(b.id);
      this.waiting.delete(b.id);
      w?.(b);
    });
    stream.on("error", (err: Error) => (this.failure = err));
  }

  static async start(): Promise<RelayBaseline> {
    const echo = startTs("echo-server.ts", [], "echo");
    const echoPort = await portOf(echo, "echo");
    const relayProc = startTs("relay-server.ts", [`127.0.0.1:${echoPort}`], "relay");
    const relayPort = await portOf(relayProc, "relay");
    const relay = loadRelay();
    const client = new relay.Relay(`127.0.0.1:${relayPort}`, grpc.credentials.createInsecure(), RELAY_CHANNEL_OPTIONS);
    const stream = (client as unknown as { Stream(): grpc.ClientDuplexStream<Batch, Batch> }).Stream();
    const baseline = new RelayBaseline([echo, relayProc], client, stream);
    await baseline.roundTrip([Buffer.alloc(1)]); // warm the path
    return baseline;
  }

  /** One batch through relay and echo and back; resolves with the returned item count. */
  roundTrip(items: Buffer[]): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`relay round trip ${id} took over 30 s`));
      }, 30_000);
      this.waiting.set(id, (b) => {
        clearTimeout(timer);
        if (b.items.length !== items.length) reject(new Error(`relay returned ${b.items.length} items, sent ${items.length}`));
        else resolve(b.items.length);
      });
      this.stream.write({ id, items });
    });
  }

  async stop(): Promise<void> {
    this.stream.end();
    this.client.close();
    await Promise.all(this.processes.map((p) => p.kill()));
  }
}
