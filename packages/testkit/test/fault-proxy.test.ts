import net from "node:net";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DmaError } from "@dmabroker/core";
import { FaultProxy } from "../src/fault-proxy.js";

// The fault proxy between plain TCP sockets and a real echo server on
// 127.0.0.1:0. Every mode is exercised on real bytes.

interface Echo {
  server: net.Server;
  address: string;
  /** Bytes the echo server has received, over all connections. */
  received: () => number;
  sockets: Set<net.Socket>;
  closeEvents: string[];
}

async function startEcho(): Promise<Echo> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const closeEvents: string[] = [];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => {
      received += d.length;
      s.write(d);
    });
    s.on("error", (e: NodeJS.ErrnoException) => closeEvents.push(e.code ?? e.message));
    s.on("end", () => s.end());
    s.on("close", () => {
      sockets.delete(s);
      closeEvents.push("close");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, received: () => received, sockets, closeEvents };
}

async function connect(address: string): Promise<net.Socket> {
  const [host, port] = address.split(":");
  const s = net.connect({ host, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  return s;
}

/** Resolves with exactly `n` bytes read from the socket (rejects on error or early close). */
function readBytes(s: net.Socket, n: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      s.off("data", onData);
      s.off("error", done);
      s.off("close", onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(parts));
    };
    const onData = (d: Buffer): void => {
      parts.push(d);
      got += d.length;
      if (got >= n) done();
    };
    const onClose = (): void => done(new Error(`closed after ${got} of ${n} bytes`));
    const timer = setTimeout(() => done(new Error(`only ${got} of ${n} bytes within ${timeoutMs} ms`)), timeoutMs);
    s.on("data", onData);
    s.once("error", done);
    s.once("close", onClose);
  });
}

function errorOf(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.once("close", () => resolve("close"));
  });
}

describe("FaultProxy", () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const clients: net.Socket[] = [];
  const open = async (): Promise<net.Socket> => {
    const s = await connect(proxy.address);
    clients.push(s);
    return s;
  };

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ target: echo.address });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await proxy.close();
    for (const s of echo.sockets) s.destroy();
    await new Promise<void>((r) => echo.server.close(() => r()));
  });

  it("pass: forwards both ways byte-correct and counts bytes and connections", async () => {
    expect(proxy.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = await open();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const back = readBytes(c, data.length);
    c.write(data);
    expect((await back).equals(data)).toBe(true);
    expect(proxy.stats()).toMatchObject({
      connectionsAccepted: 1,
      connectionsOpen: 1,
      bytesUpstream: data.length,
      bytesDownstream: data.length,
    });
    // A clean close on the client side reaches the server as a FIN.
    const closed = new Promise((r) => c.once("close", r));
    c.end();
    await closed;
    while (proxy.stats().connectionsOpen > 0) await sleep(5);
    expect(echo.closeEvents).toContain("close");
  });

  it("blackhole: holds traffic both ways with sockets open; pass releases it in order", async () => {
    const c = await open();
    const first = Buffer.from("before the partition");
    c.write(first);
    expect((await readBytes(c, first.length)).equals(first)).toBe(true);

    proxy.setMode("blackhole");
    const data = randomBytes(256 * 1024);
    let echoed = 0;
    c.on("data", (d: Buffer) => (echoed += d.length));
    c.write(data);
    // A new connection made during the partition is silent too.
    const late = await open();
    late.write("late");
    await sleep(150);
    expect(echo.received()).toBe(first.length);
    expect(echoed).toBe(0);
    expect(c.destroyed).toBe(false);
    expect(echo.closeEvents).toEqual([]);

    const back = readBytes(c, data.length);
    const lateBack = readBytes(late, 4);
    proxy.setMode("pass");
    expect((await back).equals(data)).toBe(true);
    expect((await lateBack).toString()).toBe("late");
  });

  it("blackhole: what the target sent before the partition is held, not dropped", async () => {
    const c = await open();
    // Delay the echo path so the reply is inside the proxy when the partition starts.
    proxy.setLatency(200, "downstream");
    c.write("held");
    while (proxy.stats().bytesDownstream < 4) await sleep(5);
    proxy.setMode("blackhole");
    let echoed = 0;
    c.on("data", (d: Buffer) => (echoed += d.length));
    await sleep(300);
    expect(echoed).toBe(0);
    const back = readBytes(c, 4);
    proxy.setMode("pass");
    expect((await back).toString()).toBe("held");
  });

  it("reset: RSTs every connection now and every new one while set; pass accepts again", async () => {
    const c = await open();
    c.write("x");
    await readBytes(c, 1);
    const clientSaw = errorOf(c);
    proxy.setMode("reset");
    expect(await clientSaw).toBe("ECONNRESET");
    while (echo.sockets.size > 0) await sleep(5);
    expect(echo.closeEvents).toContain("ECONNRESET");

    const refused = net.connect({ host: "127.0.0.1", port: Number(proxy.address.split(":")[1]) });
    clients.push(refused);
    expect(await errorOf(refused)).toBe("ECONNRESET");
    expect(proxy.stats().connectionsReset).toBe(2);

    proxy.setMode("pass");
    const again = await open();
    again.write("after");
    expect((await readBytes(again, 5)).toString()).toBe("after");
  });

  it("latency: delays each chunk, per direction, and keeps the order", async () => {
    const c = await open();
    proxy.setLatency(40, "upstream");
    proxy.setLatency(60, "downstream");
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.from(`<${i}:${"z".repeat(i)}>`));
    const all = Buffer.concat(pieces);
    const back = readBytes(c, all.length);
    const started = performance.now();
    for (const p of pieces) c.write(p);
    expect((await back).equals(all)).toBe(true);
    // A lower bound only: the round trip cannot be shorter than the latency added on both legs.
    expect(performance.now() - started).toBeGreaterThanOrEqual(100 - 5);
    proxy.setLatency(0);
  });

  it("bandwidth cap: throttles and stays byte-correct", async () => {
    const c = await open();
    proxy.setBandwidth(256 * 1024, "upstream");
    const data = randomBytes(128 * 1024);
    const back = readBytes(c, data.length);
    const started = performance.now();
    c.write(data);
    expect((await back).equals(data)).toBe(true);
    // 128 KiB at 256 KiB/s: the first piece goes at once, the rest needs ≥ ~0.48 s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    proxy.setBandwidth(undefined);
  });

  it("close() is idempotent and ends every connection", async () => {
    const c = await open();
    c.write("y");
    await readBytes(c, 1);
    const gone = errorOf(c);
    await Promise.all([proxy.close(), proxy.close()]);
    await proxy.close();
    await gone;
    expect(c.destroyed || c.readableEnded).toBe(true);
    expect(proxy.stats().connectionsOpen).toBe(0);
  });

  it("refuses bad settings with INVALID_ARGUMENT", async () => {
    const bad = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(DmaError);
        expect((err as DmaError).reason).toBe("INVALID_ARGUMENT");
        return;
      }
      expect.fail("no error thrown");
    };
    bad(() => proxy.setMode("sideways" as "pass"));
    bad(() => proxy.setLatency(-1));
    bad(() => proxy.setBandwidth(Number.NaN));
    bad(() => proxy.setLatency(5, "sideways" as "both"));
    await expect(FaultProxy.start({ target: "no-port" })).rejects.toMatchObject({ reason: "INVALID_ARGUMENT" });
  });
});
