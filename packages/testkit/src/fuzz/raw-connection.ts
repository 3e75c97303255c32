import * as grpc from "@grpc/grpc-js";
import { CLIENT_ID_KEY } from "@dmabroker/proto";

const identity = (b: Buffer): Buffer => b;
let connections = 0;

/** Result of one raw unary call: the response bytes, or the error as the server (or grpc-js) gave it. */
export type RawReply = { ok: true; bytes: Buffer } | { ok: false; error: grpc.ServiceError };

/**
 * One HTTP/2 connection to the broker that sends and receives raw bytes
 * (an identity serializer), so any encoding, valid or not, reaches the
 * server. No client-side size limit: what the server refuses is the test.
 */
export class RawConnection {
  readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
      "grpc-node.flow_control_window": 16 * 1024 * 1024,
      // A distinct option keeps grpc-js from sharing one subchannel between connections.
      "grpc.fuzz_connection": ++connections,
      "grpc.enable_channelz": 0,
    });
  }

  /** Metadata with this client id (none when undefined) and extra entries. */
  static metadata(clientId: string | undefined, extra: [string, string | Buffer][] = []): grpc.Metadata {
    const md = new grpc.Metadata();
    if (clientId !== undefined) md.set(CLIENT_ID_KEY, clientId);
    for (const [k, v] of extra) md.add(k, v);
    return md;
  }

  unary(method: string, request: Buffer, md: grpc.Metadata, timeoutMs: number): Promise<RawReply> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(method, identity, identity, request, md, { deadline: Date.now() + timeoutMs }, (err, res) =>
        resolve(err ? { ok: false, error: err } : { ok: true, bytes: res ?? Buffer.alloc(0) }),
      );
    });
  }

  serverStream(method: string, request: Buffer, md: grpc.Metadata, timeoutMs: number): grpc.ClientReadableStream<Buffer> {
    return this.client.makeServerStreamRequest(method, identity, identity, request, md, { deadline: Date.now() + timeoutMs });
  }

  bidi(method: string, md: grpc.Metadata, timeoutMs: number): grpc.ClientDuplexStream<Buffer, Buffer> {
    return this.client.makeBidiStreamRequest(method, identity, identity, md, { deadline: Date.now() + timeoutMs });
  }

  close(): void {
    this.client.close();
  }
}
