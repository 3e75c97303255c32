import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { DMABROKER_PROTO_FILES, PROTO_ROOT, decodeServiceError } from "@dmabroker/proto";

/** How the broker ended the stream: its status code and reason ("" for OK). */
export interface StreamEnd {
  code: number;
  reason: string;
  message: string;
  metadata: Record<string, string>;
}
import { RawGrpcClient, pb } from "./raw-grpc.js";

const ATTACH = "/dmabroker.v1.ProviderHub/Attach";

let brokerMessage: protobuf.Type | undefined;
function brokerMessageType(): protobuf.Type {
  if (!brokerMessage) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith("/") ? target : `${PROTO_ROOT}/${target}`);
    root.loadSync([...DMABROKER_PROTO_FILES], { keepCase: true });
    brokerMessage = root.lookupType("dmabroker.v1.BrokerMessage");
  }
  return brokerMessage;
}

/** A decoded BrokerMessage (snake_case field names, longs as numbers). */
export type BrokerMsg = Record<string, Record<string, unknown> | undefined>;

export interface RegisterSpec {
  providerId: string;
  /** Capability bits (default memcpy | fill | crc32c | compare | interrupt). */
  capabilityMask?: number;
  maxTransferBytes?: number;
  channels?: number;
  queueDepth?: number;
  labels?: Record<string, string>;
  public?: boolean;
}

/** AgentMessage bytes, built by hand. */
export const agentMsg = {
  register(spec: RegisterSpec): Buffer {
    const caps = spec.capabilityMask ?? (1 << 1) | (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7);
    const channel = pb.bytes(8, pb.uint(1, spec.queueDepth ?? 64));
    const body = pb.concat(
      pb.bytes(1, spec.providerId),
      ...Object.entries(spec.labels ?? {}).map(([k, v]) => pb.mapEntry(2, k, v)),
      pb.uint(3, caps),
      pb.bytes(4, pb.concat(pb.uint(1, spec.maxTransferBytes ?? 1 << 20), pb.uint(2, 1), pb.uint(3, 2))),
      pb.uint(5, 2),
      pb.uint(6, spec.public === false ? 0 : 1),
      pb.bytes(7, "hostile"),
      pb.repeat(channel, spec.channels ?? 1),
    );
    return pb.bytes(1, body);
  },
  heartbeat(seq: number, epoch: number): Buffer {
    return pb.bytes(2, pb.concat(pb.uint(1, seq), pb.uint(2, epoch)));
  },
  /** WorkDone{epoch, results} from already-encoded WorkResult bodies. */
  done(epoch: number, results: Buffer[] | Buffer): Buffer {
    const encoded = Array.isArray(results) ? pb.concat(...results.map((r) => pb.bytes(2, r))) : results;
    return pb.bytes(3, pb.concat(pb.uint(1, epoch), encoded));
  },
  draining(deadlineMs: number): Buffer {
    return pb.bytes(5, pb.uint(1, deadlineMs));
  },
  goodbye(reason: string): Buffer {
    return pb.bytes(6, pb.bytes(1, reason));
  },
};

/** One WorkResult body: TxResult 1=NOERROR 2=READ_FAILED 3=WRITE_FAILED 4=ABORTED. */
export function workResult(r: {
  workId: number;
  result: number;
  residue?: number | bigint;
  reason?: string;
  output?: Uint8Array;
  checksum?: number;
  match?: boolean;
  mismatchOffset?: number;
}): Buffer {
  return pb.concat(
    pb.uint(1, r.workId),
    pb.uint(2, r.result),
    r.residue !== undefined ? pb.uint(3, r.residue) : Buffer.alloc(0),
    r.reason ? pb.bytes(4, r.reason) : Buffer.alloc(0),
    r.output && r.output.length > 0 ? pb.bytes(5, r.output) : Buffer.alloc(0),
    r.checksum ? pb.uint(6, r.checksum) : Buffer.alloc(0),
    r.match ? pb.uint(7, 1) : Buffer.alloc(0),
    r.mismatchOffset !== undefined ? pb.uint(8, BigInt(r.mismatchOffset)) : Buffer.alloc(0),
  );
}

/**
 * A provider written from the proto alone: raw bytes out, decoded
 * BrokerMessages in. It heartbeats only when told to, so it can also play a
 * silent or stalled provider.
 */
export class HostileProvider {
  readonly messages: BrokerMsg[] = [];
  readonly ended: Promise<StreamEnd>;
  epoch = 0;
  private readonly stream: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly waiters = new Set<() => void>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly raw: RawGrpcClient,
    options: { read?: boolean } = {},
  ) {
    this.stream = raw.bidi(ATTACH);
    let resolveEnd!: (s: StreamEnd) => void;
    this.ended = new Promise((r) => (resolveEnd = r));
    this.stream.on("data", (buf: Buffer) => {
      this.messages.push(brokerMessageType().toObject(brokerMessageType().decode(buf), { longs: Number, enums: String, defaults: false }) as BrokerMsg);
      for (const w of [...this.waiters]) w();
    });
    this.stream.on("error", (err: grpc.ServiceError) => {
      this.stopHeartbeats();
      resolveEnd(decodeServiceError(err));
      for (const w of [...this.waiters]) w();
    });
    this.stream.on("status", (s: grpc.StatusObject) => {
      if (Number(s.code) === 0) resolveEnd({ code: 0, reason: "", message: s.details, metadata: {} });
    });
    // A provider that does not read: pause the stream after the first messages.
    if (options.read === false) this.stream.pause();
  }

  static connect(address: string, options: { read?: boolean } = {}): HostileProvider {
    return new HostileProvider(new RawGrpcClient(address), options);
  }

  send(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /** Registers and waits for Registered; returns the epoch. */
  async register(spec: RegisterSpec, timeoutMs = 5000): Promise<number> {
    this.send(agentMsg.register(spec));
    const m = await this.waitFor((msg) => msg.registered !== undefined || msg.rejected !== undefined, timeoutMs);
    if (!m.registered) throw new Error(`registration rejected: ${JSON.stringify(m.rejected)}`);
    this.epoch = Number(m.registered.epoch);
    return this.epoch;
  }

  startHeartbeats(intervalMs = 100): void {
    this.heartbeatTimer = setInterval(() => this.send(agentMsg.heartbeat(++this.seq, this.epoch)), intervalMs);
  }

  stopHeartbeats(): void {
    clearInterval(this.heartbeatTimer);
  }

  /** Work items received so far: work id and the decoded descriptor. */
  get workItems(): { work_id: number; descriptor: Record<string, Record<string, unknown>> }[] {
    return this.messages.flatMap((m) => (m.work?.items as { work_id: number; descriptor: Record<string, Record<string, unknown>> }[] | undefined) ?? []);
  }

  waitFor(pred: (m: BrokerMsg) => boolean, timeoutMs = 5000): Promise<BrokerMsg> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.messages.find(pred);
        if (m) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching broker message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => Object.keys(m)))}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  close(): void {
    this.stopHeartbeats();
    this.stream.cancel();
    this.raw.close();
  }
}
