import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
const cluster = await Cluster.start({ mode: "dist", agents: [{ providerId: "a", profile: "ioat", args: ["--queue-depth", "4096"] }] });
const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "x" });
const lease = await client.requestChannel({ capabilities: ["memcpy"], mode: "exclusive" });
const src = Buffer.alloc(64, 1);
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1].toFixed(2);
for (const W of [1, 4, 32]) {
  const sub: number[] = [], done: number[] = [];
  let n = 0; const t00 = performance.now();
  await Promise.all(Array.from({ length: W }, async () => {
    for (let i = 0; i < 3000 / W; i++) {
      const t0 = performance.now();
      const [c] = await lease.submit([ops.memcpy(src)]);
      const t1 = performance.now();
      await lease.waitFor(c, { timeoutMs: 5000 });
      sub.push(t1 - t0); done.push(performance.now() - t1); n++;
    }
  }));
  console.log(`W=${W}: ${(n * 1000 / (performance.now() - t00)).toFixed(0)}/s submit ms ${med(sub)} completion-after ms ${med(done)}`);
}
client.close(); await cluster.stop();
