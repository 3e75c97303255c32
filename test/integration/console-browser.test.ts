import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import puppeteer from "puppeteer-core";
import type { Browser, Page } from "puppeteer-core";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { Cluster, REPO_ROOT } from "@dmabroker/testkit";

// The operator console (/ui/) in a real browser: Debian's Chromium, headless,
// driven by puppeteer-core, against a real broker and real agent processes.
// It signs in, watches an agent die (SIGKILL) and its leases end, revokes a
// lease, drain-unbinds a provider and binds it back, all from the page, and
// leaves a screenshot in .test-results/console.png (docs/img/console.png is one).

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "console-test-token";
const SCREENSHOT = path.join(REPO_ROOT, ".test-results", "console.png");
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`console browser test skipped: ${CHROMIUM} is absent (Debian: apt-get install chromium)`);

describe.skipIf(!haveChromium)("operator console in headless Chromium", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let browser: Browser;
  let page: Page;
  let profileDir: string;
  let stopTraffic = false;
  let traffic: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    profileDir = mkdtempSync(path.join(tmpdir(), "dmabroker-chromium-"));
    // The browser starts while the processes do (each takes seconds on a busy machine).
    const launching = puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profileDir,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      defaultViewport: { width: 1280, height: 900 },
      timeout: 20_000,
    });
    launching.then((b) => (browser = b)).catch(() => {});
    cluster = await Cluster.start({
      brokerArgs: ["--admin-token", TOKEN],
      agents: [
        // Slow (2 MiB/s per channel), so its batch is really in flight when it is killed.
        { providerId: "victim", profile: "ioat", args: ["--bandwidth-bytes-per-sec", String(2 * 1024 * 1024)] },
        { providerId: "drainee", profile: "dsa" },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "console-test" });
    browser = await launching;
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    stopTraffic = true;
    await traffic;
    const proc = browser?.process();
    await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => {});
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    client?.close();
    await cluster?.stop();
  });

  /** Runs an expression in the page (a string: the tests' TypeScript has no DOM types). */
  const inPage = <T>(expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;
  const untilInPage = (expression: string): Promise<unknown> => page.waitForFunction(expression);
  /** waitForSelector that, failing, says what the page showed. */
  const until = async (selector: string, timeout?: number): Promise<void> => {
    try {
      await page.waitForSelector(selector, timeout === undefined ? {} : { timeout });
    } catch (err) {
      const shown = await inPage<string>(
        `[...document.querySelectorAll("#providers tr, #leases tr, #events li")].map((e) => e.innerText.replace(/\\s+/g, " ")).join("\\n")`,
      ).catch(() => "?");
      throw new Error(`${(err as Error).message}\nthe page showed:\n${shown}`);
    }
  };

  it("signs in with the token (an HttpOnly cookie, never in a URL), then shows providers and leases live", async () => {
    await page.goto(`${cluster.adminUrl}/ui/`);
    await until("#sign-in:not([hidden])");
    await page.type("#token", "not-the-token");
    await page.click("#sign-in-form button");
    await untilInPage(`document.querySelector("#sign-in-error")?.textContent?.includes("ADMIN_TOKEN_INVALID")`);
    await page.type("#token", TOKEN);
    await page.click("#sign-in-form button");
    await until("#main:not([hidden])");
    await until("#conn[data-state=live]");
    // The session cookie is invisible to scripts; the token is in no URL the page used.
    expect(await inPage<string>("document.cookie")).toBe("");
    const cookies = await browser.cookies();
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }))).toEqual([
      { name: "dmabroker_session", httpOnly: true, sameSite: "Strict" },
    ]);
    expect(cookies[0].value).not.toContain(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    await until('tr[data-provider="victim"][data-state="online"]');
    await until('tr[data-provider="drainee"][data-state="online"]');
  });

  it("an agent SIGKILLed: its row turns lost within 1 s and its leases end PROVIDER_GONE", async () => {
    const victimLease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const cookies = await victimLease.submit(Array.from({ length: 32 }, () => ops.memcpy(new Uint8Array(64 * 1024))));
    // Traffic on the other provider for the throughput chart (and a lease for the drain later).
    const busy = await client.requestChannel({ capabilities: ["memcpy"], providerId: "drainee", mode: "shared" });
    const spare = await client.requestChannel({ capabilities: ["memcpy"], providerId: "drainee", mode: "shared" });
    traffic = keepBusy(busy, () => stopTraffic);
    await until(`tr[data-lease="${victimLease.id}"][data-state="active"]`);
    await until(`tr[data-lease="${spare.id}"][data-state="active"]`);
    // Cookies in flight show on the lease's row (from the stats samples).
    await untilInPage(`Number(document.querySelector('tr[data-lease="${victimLease.id}"] td.num')?.textContent) > 0`);
    await victimLease.waitFor(cookies[0], { timeoutMs: 10_000 });
    const killedAt = Date.now();
    cluster.agent("victim").process.kill("SIGKILL");
    await until('tr[data-provider="victim"][data-state="lost"]', 1000);
    const seenMs = Date.now() - killedAt;
    console.log(`console: SIGKILL -> row "lost" on the page after ${seenMs} ms`);
    expect(seenMs).toBeLessThan(1000);
    await until(`tr[data-lease="${victimLease.id}"][data-state="provider_gone"][data-reason="PROVIDER_GONE"]`, 1000);
    expect((await victimLease.ended).reason).toBe("PROVIDER_GONE");
    // The detection latency chart got its bar.
    await until("#chart-detection rect.bar");
    await new Promise((r) => setTimeout(r, 1500)); // a few throughput samples for the picture
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
    console.log(`console screenshot: ${SCREENSHOT}`);
    expect(existsSync(SCREENSHOT)).toBe(true);
    spareLease = spare;
  });

  let spareLease: Lease | undefined;

  it("revokes a lease, drain-unbinds a provider (dry run first) and binds it again, each confirmed in a dialog", async () => {
    const spare = spareLease!;
    await page.click(`tr[data-lease="${spare.id}"] button`);
    await until("#confirm[open]");
    await page.click("#confirm-ok");
    await until(`tr[data-lease="${spare.id}"][data-state="revoked"]`);
    expect((await spare.ended).reason).toBe("LEASE_REVOKED");

    await page.click('tr[data-provider="drainee"] button.danger');
    await until("#confirm[open]");
    // drain is preselected; the broker's dry run lists the lease that will end.
    await untilInPage(`document.querySelector("#unbind-preview")?.textContent?.includes("Dry run")`);
    const preview = await inPage<string>(`document.querySelector("#unbind-preview").textContent`);
    expect(preview).toMatch(/1 lease\(s\) end with PROVIDER_GONE/);
    expect(await inPage<string>(`document.querySelector("#unbind-mode").value`)).toBe("drain");
    await page.click("#confirm-ok");
    await until('tr[data-provider="drainee"][data-state="removed"]');
    await until('[data-unbound="drainee"]');
    const detail = await adminGet<{ unbound: { reason: string } | null }>(cluster, "/v1/providers/drainee");
    expect(detail.unbound?.reason).toBe("unbound from the console");

    await page.click('[data-unbound="drainee"] button');
    await until("#confirm[open]");
    await page.click("#confirm-ok");
    await untilInPage(`!document.querySelector('[data-unbound="drainee"]')`);
    expect((await adminGet<{ unbound: unknown }>(cluster, "/v1/providers/drainee")).unbound).toBeNull();
  });

  it("signs out: the cookie is cleared and the API refuses the page again", async () => {
    await page.click("#sign-out");
    await until("#sign-in:not([hidden])");
    const status = await inPage<number>(`fetch("/v1/providers").then((r) => r.status)`);
    expect(status).toBe(401);
  });
});

/** GET with the bearer token (the cluster helper sends none). */
async function adminGet<T>(cluster: Cluster, p: string): Promise<T> {
  const res = await fetch(cluster.adminUrl + p, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) });
  return (await res.json()) as T;
}

/** Small batches back to back until told to stop or the lease ends. */
async function keepBusy(lease: Lease, stop: () => boolean): Promise<void> {
  try {
    while (!stop()) {
      const cookies = await lease.submit(Array.from({ length: 16 }, () => ops.memcpy(new Uint8Array(4096))));
      await lease.waitForAll(cookies, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch {
    // The lease ended (drained): traffic stops with it.
  }
}
