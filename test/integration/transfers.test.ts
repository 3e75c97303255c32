import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { Code, crc32cReference, expectReason, seededBytes, xorReference } from "./helpers.js";

// Real processes (broker + one agent per profile) on 127.0.0.1: every operation
// runs on a provider and its output is checked against a computation written
// here, independently of packages/engine.

const SEED = 7_340_033;

describe("transfers on real providers", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let other: BrokerClient;

  beforeAll(async () => {
    console.log(`transfers test seed ${SEED}`);
    cluster = await Cluster.start({
      agents: [
        { providerId: "ioat-1", profile: "ioat" },
        { providerId: "dsa-1", profile: "dsa" },
        { providerId: "plx-1", profile: "plx" },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "transfers-a" });
    other = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "transfers-b" });
  });

  afterAll(async () => {
    client?.close();
    other?.close();
    await cluster?.stop();
  });

  it("memcpy copies the bytes on every profile", async () => {
    for (const [providerId, mode] of [
      ["ioat-1", "shared"],
      ["dsa-1", "shared"],
      ["plx-1", "exclusive"],
    ] as const) {
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId, mode });
      const sizes = [4, 4096, 65536, 1 << 20];
      const srcs = sizes.map((n, i) => seededBytes(SEED + i, n));
      const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
      const done = await lease.waitForAll(cookies, { timeoutMs: 10_000 });
      done.forEach((c, i) => {
        expect(c).toMatchObject({ status: "COMPLETE", result: "NOERROR", residue: 0, reason: "", providerId });
        expect(c.output!.equals(srcs[i])).toBe(true);
      });
      await lease.release();
    }
  });

  it("fill repeats the pattern over the length", async () => {
    const lease = await client.requestChannel({ capabilities: ["fill"], providerId: "ioat-1" });
    const pattern = Buffer.from([0xde, 0xad, 0x01]);
    const [cookie] = await lease.submit([ops.fill(pattern, 1000)]);
    const c = await lease.waitFor(cookie);
    const expected = Buffer.alloc(1000);
    for (let i = 0; i < 1000; i++) expected[i] = pattern[i % 3];
    expect(c.result).toBe("NOERROR");
    expect(c.output!.equals(expected)).toBe(true);
    await lease.release();
  });

  it("xor and xor-validate compute parity", async () => {
    const lease = await client.requestChannel({ capabilities: ["xor", "xorValidate"] });
    expect(lease.providerId).toBe("ioat-1");
    const sources = [1, 2, 3].map((i) => seededBytes(SEED * i, 4099));
    const parity = xorReference(sources);
    const broken = Buffer.from(parity);
    broken[1234] ^= 0x40;
    const cookies = await lease.submit([ops.xor(sources), ops.xorValidate([...sources, parity]), ops.xorValidate([...sources, broken])]);
    const [x, ok, bad] = await lease.waitForAll(cookies);
    expect(x.output!.equals(parity)).toBe(true);
    expect(ok).toMatchObject({ result: "NOERROR", match: true, mismatchOffset: -1 });
    expect(bad).toMatchObject({ result: "NOERROR", match: false, mismatchOffset: 1234 });
    await lease.release();
  });

  it("crc32c matches a bitwise reference, including a continued checksum", async () => {
    const lease = await client.requestChannel({ capabilities: ["crc32c"] });
    expect(lease.providerId).toBe("dsa-1");
    const data = seededBytes(SEED + 99, 100_003);
    const head = data.subarray(0, 50_000);
    const tail = data.subarray(50_000);
    const cookies = await lease.submit([ops.crc32c(Buffer.from("123456789")), ops.crc32c(data), ops.crc32c(tail, crc32cReference(head))]);
    const [known, whole, continued] = await lease.waitForAll(cookies);
    expect(known.checksum).toBe(0xe3069283);
    expect(whole.checksum).toBe(crc32cReference(data));
    expect(continued.checksum).toBe(whole.checksum);
    await lease.release();
  });

  it("compare finds the first differing byte", async () => {
    const lease = await client.requestChannel({ capabilities: ["compare"] });
    const a = seededBytes(SEED + 5, 10_000);
    const b = Buffer.from(a);
    b[777] ^= 1;
    const cookies = await lease.submit([ops.compare(a, Buffer.from(a)), ops.compare(a, b)]);
    const [same, diff] = await lease.waitForAll(cookies);
    expect(same).toMatchObject({ result: "NOERROR", match: true, mismatchOffset: -1 });
    expect(diff).toMatchObject({ result: "NOERROR", match: false, mismatchOffset: 777 });
    await lease.release();
  });

  it("interrupt completes with no data, and completions() yields every result once", async () => {
    const lease = await client.requestChannel({ capabilities: ["interrupt", "memcpy"], providerId: "dsa-1" });
    const stream = lease.completions();
    const src = seededBytes(SEED + 6, 512);
    const cookies = await lease.submit([ops.interrupt(), ops.memcpy(src), ops.interrupt()]);
    const got: number[] = [];
    for await (const c of stream) {
      expect(c.result).toBe("NOERROR");
      got.push(c.cookie);
      if (got.length === cookies.length) break;
    }
    expect(got.sort((x, y) => x - y)).toEqual(cookies);
    const status = await lease.txStatus(cookies[1]);
    expect(status.status).toBe("COMPLETE");
    expect(status.completion?.result).toBe("NOERROR");
    await lease.release();
  });

  it("completions() stops when its signal aborts", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const ac = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const c of lease.completions({ signal: ac.signal })) seen.push(c.cookie);
    })();
    const [cookie] = await lease.submit([ops.memcpy(Buffer.from("one"))]);
    await lease.waitFor(cookie);
    await expect.poll(() => seen.length).toBe(1);
    ac.abort();
    await reading; // returns instead of waiting for the lease to end
    expect(lease.state).toBe("active");
    await lease.release();
  });

  it("out-of-order provider: a large mixed batch completes with every byte right", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const srcs = Array.from({ length: 256 }, (_, i) => seededBytes(SEED + 1000 + i, i % 7 === 0 ? 256 * 1024 : 64 + i));
    const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
    expect(cookies).toEqual(Array.from({ length: 256 }, (_, i) => cookies[0] + i));
    const done = await lease.waitForAll(cookies, { timeoutMs: 20_000 });
    done.forEach((c, i) => expect(c.output!.equals(srcs[i])).toBe(true));
    await lease.release();
  });

  it("large outputs from a tiny request (8 fills of 16 MiB) all arrive intact", async () => {
    const lease = await client.requestChannel({ capabilities: ["fill"], providerId: "ioat-1", mode: "exclusive" });
    const MiB16 = 16 * 1024 * 1024;
    const patterns = Array.from({ length: 8 }, (_, i) => Buffer.from([i + 1, 0xa5, i * 3]));
    const cookies = await lease.submit(patterns.map((p) => ops.fill(p, MiB16)));
    const done = await lease.waitForAll(cookies, { timeoutMs: 30_000 });
    done.forEach((c, i) => {
      expect(c.result).toBe("NOERROR");
      expect(c.output!.length).toBe(MiB16);
      const p = patterns[i];
      for (const at of [0, 1, 2, 12345, MiB16 - 1]) expect(c.output![at], `fill ${i} byte ${at}`).toBe(p[at % 3]);
    });
    await lease.release();
  });

  it("a result is handed to waitFor once; asking again says so at once instead of waiting", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const [cookie] = await lease.submit([ops.memcpy(Buffer.from("once"))]);
    expect((await lease.waitFor(cookie)).output!.toString()).toBe("once");
    await expectReason(lease.waitFor(cookie, { timeoutMs: 60_000 }), Code.NOT_FOUND, "COOKIE_NOT_FOUND");
    // The broker still has the cookie's record.
    expect((await lease.txStatus(cookie)).status).toBe("COMPLETE");
    await lease.release();
  });

  it("submit without issue stays pending until issuePending", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "ioat-1" });
    const src = seededBytes(SEED + 7, 1024);
    const [cookie] = await lease.submit([ops.memcpy(src)], { issue: false });
    expect((await lease.txStatus(cookie)).status).toBe("PENDING");
    expect(await lease.issuePending()).toBe(1);
    const c = await lease.waitFor(cookie);
    expect(c.output!.equals(src)).toBe(true);
    await lease.release();
  });

  it("never double-leases an exclusive channel", async () => {
    // plx has one private channel: one exclusive lease, nobody else, no shared.
    const held = await client.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" });
    await expectReason(
      other.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" }),
      Code.RESOURCE_EXHAUSTED,
      "NO_CHANNEL_AVAILABLE",
    );
    await expectReason(other.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "shared" }), Code.UNAVAILABLE, "NO_PROVIDER");
    await held.release();
    const again = await other.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" });
    expect(again.channel).toBe(0);
    await again.release();

    // ioat has 8 channels: 8 exclusive leases on distinct channels, then none, and no shared lease either.
    const leases = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? client : other).requestChannel({ capabilities: ["memcpy"], providerId: "ioat-1", mode: "exclusive" })),
    );
    expect(new Set(leases.map((l) => l.channel)).size).toBe(8);
    await expectReason(
      client.requestChannel({ capabilities: ["memcpy"], providerId: "ioat-1", mode: "exclusive" }),
      Code.RESOURCE_EXHAUSTED,
      "NO_CHANNEL_AVAILABLE",
    );
    await expectReason(
      client.requestChannel({ capabilities: ["memcpy"], providerId: "ioat-1", mode: "shared" }),
      Code.RESOURCE_EXHAUSTED,
      "NO_CHANNEL_AVAILABLE",
    );
    const { providers } = await cluster.admin<{ providers: { providerId: string; channels: { leases: number; exclusive: boolean }[] }[] }>("/v1/providers");
    const ioat = providers.find((p) => p.providerId === "ioat-1")!;
    expect(ioat.channels.every((c) => c.leases === 1 && c.exclusive)).toBe(true);
    await Promise.all(leases.map((l) => l.release()));
  });

  it("release is idempotent and later calls name the reason", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"] });
    await expect(lease.release()).resolves.toEqual({ released: true, state: "released", reason: "LEASE_RELEASED" });
    await expect(lease.release()).resolves.toEqual({ released: false, state: "released", reason: "LEASE_RELEASED" });
    await expectReason(lease.submit([ops.memcpy(Buffer.alloc(8))]), Code.FAILED_PRECONDITION, "LEASE_RELEASED");
  });
});
