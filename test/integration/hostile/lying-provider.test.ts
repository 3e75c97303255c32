import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { CLIENT_ID_KEY, loadDmaBrokerV1 } from "@dmabroker/proto";
import type { Completion__Output, DmaBrokerClient } from "@dmabroker/proto";
import { Cluster } from "@dmabroker/testkit";
import { HostileProvider, agentMsg, workResult } from "./hostile-provider.js";

// A provider that lies: every result that does not fit its descriptor ends the
// cookie ABORTED / PROVIDER_PROTOCOL_ERROR (never NOERROR with wrong bytes),
// is counted, and a provider that keeps lying is fenced.

const NOERROR = 1;
const READ_FAILED = 2;
const WRITE_FAILED = 3;
const LIMIT = 12;

describe("results that do not fit their descriptors", () => {
  let cluster: Cluster;
  let liar: HostileProvider;
  let client: BrokerClient;
  let raw: DmaBrokerClient;
  let lease: Lease;
  let answered = 0;

  beforeAll(async () => {
    cluster = await Cluster.start({ brokerArgs: ["--max-provider-protocol-errors", String(LIMIT)] });
    liar = HostileProvider.connect(cluster.grpcAddress);
    await liar.register({ providerId: "liar", public: false });
    liar.startHeartbeats(100);
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "victim" });
    raw = new (loadDmaBrokerV1().DmaBroker)(cluster.grpcAddress, grpc.credentials.createInsecure());
    lease = await client.requestChannel({ capabilities: ["memcpy", "fill", "compare"], providerId: "liar", mode: "exclusive" });
  });

  afterAll(async () => {
    liar?.close();
    raw?.close();
    client?.close();
    await cluster?.stop();
  });

  /** The broker's own record of a cookie (raw TxStatus, no SDK in between). */
  const brokerRecord = (cookie: number): Promise<Completion__Output> =>
    new Promise((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set(CLIENT_ID_KEY, "victim");
      raw.TxStatus({ leaseId: lease.id, cookie }, md, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!.completion!)));
    });

  /** Submits one descriptor, answers its work item with `answer(workId)`, and returns the client's and the broker's view. */
  async function submitAndAnswer(descriptor: Parameters<Lease["submit"]>[0][number], answer: (workId: number) => Buffer) {
    const [cookie] = await lease.submit([descriptor]);
    await liar.waitFor(() => liar.workItems.length > answered);
    const item = liar.workItems[answered++];
    liar.send(agentMsg.done(liar.epoch, [answer(item.work_id)]));
    const seen = await lease.waitFor(cookie, { timeoutMs: 5000 });
    return { seen, record: await brokerRecord(cookie) };
  }

  const src = Buffer.alloc(4096, 0x5a);
  const lies: [string, () => Parameters<Lease["submit"]>[0][number], (w: number) => Buffer][] = [
    ["memcpy 4 KiB answered with 100 B", () => ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR, output: src.subarray(0, 100) })],
    ["memcpy 4 KiB answered with 8 KiB", () => ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR, output: Buffer.concat([src, src]) })],
    ["memcpy 4 KiB answered with 0 B", () => ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR })],
    ["NOERROR with residue 4096", () => ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR, residue: 4096, output: src })],
    [
      "READ_FAILED with residue 2^64-1",
      () => ops.memcpy(src),
      (w) => workResult({ workId: w, result: READ_FAILED, residue: (1n << 64n) - 1n, reason: "DEVICE_READ_ERROR" }),
    ],
    ["a result value outside the enum", () => ops.memcpy(src), (w) => workResult({ workId: w, result: 9, output: src })],
    ["an error without a reason", () => ops.memcpy(src), (w) => workResult({ workId: w, result: WRITE_FAILED, residue: 4096 })],
    ["an error with a made-up reason", () => ops.memcpy(src), (w) => workResult({ workId: w, result: READ_FAILED, residue: 4096, reason: "MY_OWN_REASON" })],
    ["fill 4 KiB answered with 7 B", () => ops.fill(Buffer.from([1, 2]), 4096), (w) => workResult({ workId: w, result: NOERROR, output: Buffer.alloc(7, 1) })],
    [
      "fill 4 KiB answered with the wrong bytes",
      () => ops.fill(Buffer.from([1, 2]), 4096),
      (w) => workResult({ workId: w, result: NOERROR, output: Buffer.alloc(4096, 3) }),
    ],
    ["compare: match with a mismatch offset", () => ops.compare(src, src), (w) => workResult({ workId: w, result: NOERROR, match: true, mismatchOffset: 17 })],
  ];

  for (const [name, descriptor, answer] of lies) {
    it(`${name}: ABORTED / PROVIDER_PROTOCOL_ERROR, at the broker and at the client`, async () => {
      const { seen, record } = await submitAndAnswer(descriptor(), answer);
      expect({ result: seen.result, reason: seen.reason, residue: seen.residue, output: seen.output }).toEqual({
        result: "ABORTED",
        reason: "PROVIDER_PROTOCOL_ERROR",
        residue: 4096,
        output: undefined,
      });
      expect({ status: record.status, result: record.result, reason: record.reason, bytes: record.output.length }).toEqual({
        status: "TX_STATUS_ERROR",
        result: "TX_RESULT_ABORTED",
        reason: "PROVIDER_PROTOCOL_ERROR",
        bytes: 0,
      });
    });
  }

  it("an honest answer from the same provider still passes, byte for byte", async () => {
    const { seen, record } = await submitAndAnswer(ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR, output: src }));
    expect(seen.result).toBe("NOERROR");
    expect(seen.output!.equals(src)).toBe(true);
    // Once the watch has sent it, the broker keeps no copy of the bytes, and says so rather than NOERROR with none.
    expect([record.reason, record.output.length]).toSatisfy(
      ([reason, bytes]: [string, number]) => (reason === "" && bytes === 4096) || reason === "OUTPUT_NOT_RETAINED",
    );
  });

  it("memcpy bytes of the right length but wrong content: the broker cannot tell, the SDK refuses them", async () => {
    const { seen, record } = await submitAndAnswer(ops.memcpy(src), (w) => workResult({ workId: w, result: NOERROR, output: Buffer.alloc(4096, 0x11) }));
    expect({ result: seen.result, reason: seen.reason, output: seen.output }).toEqual({
      result: "ABORTED",
      reason: "PROVIDER_PROTOCOL_ERROR",
      output: undefined,
    });
    // The broker keeps no source to compare with: to it this was a well-formed NOERROR.
    expect(record.reason === "" || record.reason === "OUTPUT_NOT_RETAINED").toBe(true);
  });

  it("counts each lie in /metrics and fences the provider past the limit", async () => {
    let text = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(text).toContain(`dmabroker_protocol_violations_total{kind="invalid_result"} ${lies.length}`);
    // Lie until past the limit: the incarnation is fenced, the lease ends PROVIDER_GONE, the stream says why.
    for (let i = lies.length; i <= LIMIT; i++) {
      const [cookie] = await lease.submit([ops.memcpy(src)]).catch(() => [0]);
      if (cookie === 0) break;
      await liar.waitFor(() => liar.workItems.length > answered);
      liar.send(agentMsg.done(liar.epoch, [workResult({ workId: liar.workItems[answered++].work_id, result: NOERROR })]));
      await lease.waitFor(cookie, { timeoutMs: 5000 }).catch(() => undefined);
    }
    const status = await liar.ended;
    expect(status.reason).toBe("PROVIDER_PROTOCOL_ERROR");
    expect(liar.messages.some((m) => m.rejected?.reason === "PROVIDER_PROTOCOL_ERROR")).toBe(true);
    await lease.ended;
    expect(lease.state).toBe("provider_gone");
    text = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(text).toContain("dmabroker_providers_fenced_protocol_total 1");
  });
});
