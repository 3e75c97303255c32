import * as grpc from "@grpc/grpc-js";

/**
 * A hand-rolled protobuf writer and a gRPC client that sends raw bytes: what
 * an attacker (or an independent stack) sends, with no generated code in the
 * way. Messages are built field by field, so counts, lengths and encodings
 * can be anything, including invalid.
 */
export const pb = {
  varint(n: number | bigint): Buffer {
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    return Buffer.from(out);
  },
  tag(field: number, wireType: number): Buffer {
    return pb.varint(field * 8 + wireType);
  },
  /** A varint field (uint32/uint64/bool/enum). */
  uint(field: number, n: number | bigint): Buffer {
    return Buffer.concat([pb.tag(field, 0), pb.varint(n)]);
  },
  /** A length-delimited field (string, bytes, sub-message). */
  bytes(field: number, value: Uint8Array | string): Buffer {
    const b = typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
    return Buffer.concat([pb.tag(field, 2), pb.varint(b.length), b]);
  },
  /** A map<string,string> entry as field `field`. */
  mapEntry(field: number, key: string, value: string): Buffer {
    return pb.bytes(field, Buffer.concat([pb.bytes(1, key), pb.bytes(2, value)]));
  },
  /** `part` repeated `count` times, built once (fast for millions). */
  repeat(part: Buffer, count: number): Buffer {
    const out = Buffer.allocUnsafe(part.length * count);
    for (let i = 0; i < count; i++) part.copy(out, i * part.length);
    return out;
  },
  concat(...parts: Buffer[]): Buffer {
    return Buffer.concat(parts);
  },
};

const identity = (b: Buffer): Buffer => b;

/** The outcome of a raw unary call, with how long it took. */
export type RawResult = { ok: true; response: Buffer; ms: number } | { ok: false; error: grpc.ServiceError; ms: number };

/** A gRPC client that sends and receives raw message bytes on any method path. */
export class RawGrpcClient {
  readonly client: grpc.Client;

  constructor(address: string, options: grpc.ChannelOptions = {}) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
      ...options,
    });
  }

  static metadata(clientId?: string): grpc.Metadata {
    const md = new grpc.Metadata();
    if (clientId) md.set("dmabroker-client-id", clientId);
    return md;
  }

  unary(path: string, message: Buffer, opts: { clientId?: string; timeoutMs?: number } = {}): Promise<RawResult> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        message,
        RawGrpcClient.metadata(opts.clientId),
        { deadline: Date.now() + (opts.timeoutMs ?? 20_000) },
        (err, response) => {
          const ms = performance.now() - t0;
          resolve(err ? { ok: false, error: err, ms } : { ok: true, response: response!, ms });
        },
      );
    });
  }

  serverStream(path: string, message: Buffer, opts: { clientId?: string } = {}): grpc.ClientReadableStream<Buffer> {
    return this.client.makeServerStreamRequest(path, identity, identity, message, RawGrpcClient.metadata(opts.clientId));
  }

  bidi(path: string, opts: { clientId?: string } = {}): grpc.ClientDuplexStream<Buffer, Buffer> {
    return this.client.makeBidiStreamRequest(path, identity, identity, RawGrpcClient.metadata(opts.clientId));
  }

  close(): void {
    this.client.close();
  }
}
