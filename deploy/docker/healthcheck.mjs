#!/usr/bin/env node
// Container healthchecks (node:20-slim has no curl). Exit 0 healthy, 1 not.
//   healthcheck.mjs ready <admin-url>        the broker: GET /readyz answers 200
//   healthcheck.mjs registered <admin-url>   an agent: the broker lists $DMABROKER_PROVIDER_ID online
// An agent has no port of its own; "healthy" means what a client cares about:
// the broker can lease its channels. Every request is bounded (2 s).
const [mode, adminUrl] = process.argv.slice(2);
const TIMEOUT_MS = 2000;

function fail(message) {
  process.stderr.write(`healthcheck ${mode ?? ""}: ${message}\n`);
  process.exit(1);
}

async function get(path) {
  const res = await fetch(new URL(path, adminUrl), { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) fail(`GET ${path}: HTTP ${res.status}`);
  return res.json();
}

if (!adminUrl || (mode !== "ready" && mode !== "registered")) {
  process.stderr.write("usage: healthcheck.mjs ready|registered <admin-url>\n");
  process.exit(2);
}
try {
  if (mode === "ready") {
    await get("/readyz");
  } else {
    const id = process.env.DMABROKER_PROVIDER_ID;
    if (!id) fail("DMABROKER_PROVIDER_ID is not set");
    const { providers } = await get("/v1/providers");
    // Tombstones of earlier incarnations stay listed; one online entry is enough.
    const mine = providers.filter((p) => p.providerId === id);
    if (!mine.some((p) => p.state === "online")) {
      fail(mine.length ? `provider ${id} is ${mine.map((p) => p.state).join(", ")}` : `provider ${id} is not registered`);
    }
  }
  process.exit(0);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
