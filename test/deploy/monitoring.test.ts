// The monitoring profile, checked offline: Prometheus's alert rules and config
// with promtool (Debian package `prometheus`), the Grafana provisioning, and
// every PromQL expression of the rules and the dashboard naming only series a
// real broker exports (its /metrics scraped live, in this test).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { Cluster, REPO_ROOT } from "@dmabroker/testkit";
import { loadCompose } from "./deploy-model.js";

const ALERTS = path.join(REPO_ROOT, "deploy/prometheus/alerts.yml");
const PROMETHEUS_CONFIG = path.join(REPO_ROOT, "deploy/prometheus/prometheus.yml");
const DASHBOARD = path.join(REPO_ROOT, "deploy/grafana/dashboards/dmabroker.json");
const DATASOURCES = path.join(REPO_ROOT, "deploy/grafana/provisioning/datasources/prometheus.yml");
const DASHBOARD_PROVIDERS = path.join(REPO_ROOT, "deploy/grafana/provisioning/dashboards/dmabroker.yml");

const havePromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!havePromtool) console.log("promtool checks skipped: promtool is absent (Debian: apt-get install prometheus)");

/** Series Prometheus itself makes, not the broker. */
const PROMETHEUS_SERIES = new Set(["up"]);
/** PromQL words that look like names: operators, modifiers and number literals. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "atan2",
  "inf",
  "nan",
  "Inf",
  "NaN",
]);

/**
 * The metric names a PromQL expression selects: strings, label matchers,
 * ranges and label lists removed, then every identifier that is not a
 * function call (name followed by "(") or a keyword.
 */
function seriesNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1])) continue;
    names.add(m[1]);
  }
  return [...names];
}

/** Sample names a Prometheus text exposition makes possible, from its `# TYPE` lines. */
function exportedSeries(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, kind] = m;
    out.add(name);
    if (kind === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) out.add(name + suffix);
    if (kind === "summary") for (const suffix of ["_sum", "_count"]) out.add(name + suffix);
  }
  return out;
}

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  }[];
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const rules = parseYaml(readFileSync(ALERTS, "utf8")) as RuleFile;
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { uid: string; title: string; panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** Grafana's own variables, as Prometheus would see them after Grafana substitutes them. */
const grafanaToPromql = (expr: string): string => expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "1m");
const expressions: { where: string; expr: string }[] = [
  ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr }))),
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: grafanaToPromql(t.expr) }))),
];

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync("promtool", args, { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!havePromtool)("promtool", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "dmabroker-promtool-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts the alert rules", () => {
    const r = promtool(["check", "rules", ALERTS]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.out).toBe(0);
  });

  it("fires the alerts it should on synthetic series, and no others (deploy/prometheus/alerts.test.yml)", () => {
    const r = promtool(["test", "rules", path.join(REPO_ROOT, "deploy/prometheus/alerts.test.yml")]);
    expect(r.out).toContain("SUCCESS");
    expect(r.status, r.out).toBe(0);
  });

  it("accepts Prometheus's config with the rules where it loads them", () => {
    const config = parseYaml(readFileSync(PROMETHEUS_CONFIG, "utf8")) as { rule_files: string[] };
    expect(config.rule_files).toEqual(["/etc/prometheus/alerts.yml"]);
    copyFileSync(ALERTS, path.join(dir, "alerts.yml"));
    writeFileSync(path.join(dir, "prometheus.yml"), stringifyYaml({ ...config, rule_files: [path.join(dir, "alerts.yml")] }));
    const r = promtool(["check", "config", path.join(dir, "prometheus.yml")]);
    expect(r.status, r.out).toBe(0);
  });

  it("parses every dashboard query (as recording rules, so promtool's PromQL parser reads them)", () => {
    const targets = expressions.filter((e) => e.where.startsWith("panel"));
    expect(targets.length).toBeGreaterThan(10);
    const file = path.join(dir, "dashboard-queries.yml");
    writeFileSync(file, stringifyYaml({ groups: [{ name: "dashboard", rules: targets.map((t, i) => ({ record: `dashboard:query_${i}`, expr: t.expr })) }] }));
    const r = promtool(["check", "rules", file]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`SUCCESS: ${targets.length} rules found`);
  });
});

describe("PromQL names only series the broker exports (a live /metrics scrape)", () => {
  let cluster: Cluster;
  let exported: Set<string>;

  beforeAll(async () => {
    cluster = await Cluster.start();
    const res = await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    exported = exportedSeries(await res.text());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("finds metric names in PromQL (and would catch a misspelt one)", () => {
    expect(seriesNames('histogram_quantile(0.99, sum by (le, cause) (rate(dmabroker_provider_detection_seconds_bucket{cause!="x"}[5m]))) > 2.5')).toEqual([
      "dmabroker_provider_detection_seconds_bucket",
    ]);
    expect(seriesNames("(a_total / on (provider_id) b) > 0.9 and b > 1e3 offset 5m")).toEqual(["a_total", "b"]);
    expect(exported.has("dmabroker_cookies_totl")).toBe(false);
    expect(exported.has("dmabroker_cookies_total")).toBe(true);
    expect(exported.has("dmabroker_provider_detection_seconds_bucket")).toBe(true);
  });

  it("every rule and dashboard query", () => {
    expect(expressions.length).toBeGreaterThan(15);
    const unknown = expressions.flatMap(({ where, expr }) =>
      seriesNames(expr)
        .filter((n) => !exported.has(n) && !PROMETHEUS_SERIES.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(unknown).toEqual([]);
    // Every query names at least one series (a typo'd function would hide one).
    for (const { where, expr } of expressions) expect(seriesNames(expr).length, `${where}: ${expr}`).toBeGreaterThan(0);
  });
});

describe("Grafana in the monitoring profile", () => {
  const compose = loadCompose();
  const grafana = compose.services.grafana;
  const prometheus = compose.services.prometheus;

  it("runs only with --profile monitoring, provisioned from deploy/grafana", () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana.profiles).toEqual(["monitoring"]);
    const mounts = Object.fromEntries((grafana.volumes ?? []).map((v) => v.split(":")).map(([src, dst]) => [dst, src]));
    expect(mounts["/etc/grafana/provisioning"]).toBe("./deploy/grafana/provisioning");
    for (const src of Object.values(mounts)) expect(existsSync(path.join(REPO_ROOT, src)), src).toBe(true);
    const providers = parseYaml(readFileSync(DASHBOARD_PROVIDERS, "utf8")) as { providers: { options: { path: string } }[] };
    expect(mounts[providers.providers[0].options.path]).toBe("./deploy/grafana/dashboards");
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${providers.providers[0].options.path}/dmabroker.json`);
  });

  it("its datasource is the compose Prometheus, and every panel uses it", () => {
    const ds = (parseYaml(readFileSync(DATASOURCES, "utf8")) as { datasources: { uid: string; type: string; url: string }[] }).datasources;
    expect(ds).toHaveLength(1);
    expect(ds[0].type).toBe("prometheus");
    const port = (prometheus.ports ?? [])[0].split(":").pop();
    expect(ds[0].url).toBe(`http://prometheus:${port}`);
    for (const p of panels.filter((x) => x.type !== "row")) {
      expect(p.datasource?.uid, p.title).toBe(ds[0].uid);
      for (const t of p.targets ?? []) expect(t.datasource?.uid ?? ds[0].uid, p.title).toBe(ds[0].uid);
    }
  });

  it("Prometheus mounts the rules file where its config loads it", () => {
    const mounts = Object.fromEntries((prometheus.volumes ?? []).map((v) => v.split(":")).map(([src, dst]) => [dst, src]));
    expect(mounts["/etc/prometheus/alerts.yml"]).toBe("./deploy/prometheus/alerts.yml");
  });
});
