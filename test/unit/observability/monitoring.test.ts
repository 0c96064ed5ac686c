/**
 * config/monitoring against the real promtool (built from Go modules by test/tools/build.sh and
 * cached) and against the operator's own metrics registry: the alert rules load and behave as their
 * unit tests (rules.test.yaml) say, the dashboard's queries are valid PromQL, and every metric the
 * rules and the dashboard query is one src/observability/metrics.ts exports.
 */
import { CONTROLLER_NAME, DEFAULT_LEASE_NAME } from "../../../src/api/constants.js";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse, parseAllDocuments, stringify } from "yaml";
import { Metrics } from "../../../src/observability/metrics.js";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { metricNames } from "../../support/promql.js";
import { TOOL_BUILD_TIMEOUT_MS, toolBinary } from "../../support/tools.js";

const execFileAsync = promisify(execFile);
const MONITORING = path.join(repoRoot(), "config", "monitoring");

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}
interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}
interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
  readonly panels?: readonly Panel[];
}

/** The PrometheusRule's spec.groups: a plain Prometheus rule file's content. */
function ruleGroups(): RuleGroup[] {
  const docs = parseAllDocuments(readFileSync(path.join(MONITORING, "prometheusrule.yaml"), "utf8"));
  const rule = docs.map((d) => d.toJS() as { kind?: string; spec?: { groups: RuleGroup[] } });
  const spec = rule.find((d) => d.kind === "PrometheusRule")?.spec;
  if (!spec) throw new Error("config/monitoring/prometheusrule.yaml holds no PrometheusRule");
  return spec.groups;
}

/** Every query of the dashboard, with Grafana's variables replaced by what Prometheus would see. */
function dashboardQueries(): { title: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(path.join(MONITORING, "dashboard.json"), "utf8")) as {
    panels: Panel[];
    templating: { list: { query?: string | { query: string } }[] };
  };
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: readonly Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ title: p.title, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === "string" ? undefined : v.query?.query;
    // label_values(SELECTOR, label): the selector is the query Prometheus answers.
    const m = q === undefined ? null : /^label_values\((.*),\s*\w+\)$/.exec(q);
    if (m?.[1]) out.push({ title: "variable", expr: m[1] });
  }
  return out.map(({ title, expr }) => ({
    title,
    expr: expr.replace(/\$__rate_interval|\$__interval/g, "5m").replace(/\$job/g, ".+"),
  }));
}

/** The names the registry exposes, histograms with their _bucket, _sum and _count series. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new Metrics({ controller: CONTROLLER_NAME, leaseName: DEFAULT_LEASE_NAME });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${suffix}`);
  }
  return names;
}

describe("monitoring: config/monitoring (real promtool)", function () {
  let promtool: string;
  let dir: string;

  before(function () {
    this.timeout(TOOL_BUILD_TIMEOUT_MS);
    promtool = toolBinary("promtool");
    dir = mkdtempSync(path.join(tmpdir(), "sws-monitoring-"));
    writeFileSync(path.join(dir, "prometheusrule.rules.yaml"), stringify({ groups: ruleGroups() }));
    copyFileSync(path.join(MONITORING, "rules.test.yaml"), path.join(dir, "rules.test.yaml"));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes `promtool check rules` (syntax, PromQL, templates of the annotations)", async () => {
    const { stdout } = await execFileAsync(promtool, ["check", "rules", "prometheusrule.rules.yaml"], {
      cwd: dir,
    });
    const alerts = ruleGroups().flatMap((g) => g.rules.filter((r) => r.alert));
    expect(stdout).to.include(`SUCCESS: ${alerts.length} rules found`);
  });

  it("passes `promtool test rules`: each alert fires when it should, not before its `for`, not on another operator's metrics", async () => {
    const run = await execFileAsync(promtool, ["test", "rules", "rules.test.yaml"], { cwd: dir }).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? err.message}`);
      },
    );
    expect(run.stdout).to.include("SUCCESS");
  });

  it("has a firing unit test for every alert", () => {
    const tests = parse(readFileSync(path.join(MONITORING, "rules.test.yaml"), "utf8")) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    const alerts = ruleGroups().flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts).to.include.members([
      "SecureWorkspaceNotReady",
      "SecureWorkspaceReconcileErrors",
      "SecureWorkspaceDriftCorrectionsHigh",
      "SecureWorkspaceInformerRestarts",
      "SecureWorkspaceLeaderMissing",
    ]);
    for (const alert of alerts) expect(firing, `a test in which ${alert} fires`).to.include(alert);
  });

  it("has dashboard queries that are valid PromQL (promtool checks them as recording rules)", async () => {
    const queries = dashboardQueries();
    expect(queries.length).to.be.greaterThan(10);
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr }));
    writeFileSync(
      path.join(dir, "dashboard.rules.yaml"),
      stringify({ groups: [{ name: "dashboard", rules }] }),
    );
    const { stdout } = await execFileAsync(promtool, ["check", "rules", "dashboard.rules.yaml"], {
      cwd: dir,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        `promtool check rules (dashboard) failed:\n${err.stdout ?? ""}${err.stderr ?? err.message}`,
      );
    });
    expect(stdout).to.include(`SUCCESS: ${rules.length} rules found`);
  });

  it("queries only metrics that src/observability/metrics.ts exports (rules and dashboard)", async () => {
    const exported = await exportedNames();
    const used = new Map<string, string>();
    for (const group of ruleGroups())
      for (const rule of group.rules)
        for (const name of metricNames(rule.expr))
          used.set(name, `alert ${rule.alert ?? rule.record ?? "?"}`);
    for (const q of dashboardQueries())
      for (const name of metricNames(q.expr)) used.set(name, `panel ${q.title}`);
    // The extractor finds what is there (it would pass vacuously otherwise).
    expect([...used.keys()]).to.include.members([
      "secureworkspace_workspaces",
      "controller_runtime_reconcile_errors_total",
      "leader_election_master_status",
      "controller_runtime_reconcile_time_seconds_bucket",
    ]);
    const missing = [...used]
      .filter(([name]) => !exported.has(name))
      .map(([name, where]) => `${name} (${where})`);
    expect(missing, "queried but not exported").to.deep.equal([]);
  });
});

describe("metricNames (PromQL metric names, for the check above)", () => {
  it("finds selected metrics, not functions, labels, keywords, durations or strings", () => {
    const names = metricNames(
      'histogram_quantile(0.99, sum by (le, pod) (rate(a_bucket{job=~"x|y",le!="1"}[5m]))) / on (pod) group_left b_total offset 1h > 1e3 and absent(c{d="e f"})',
    );
    expect([...names].sort()).to.deep.equal(["a_bucket", "b_total", "c"]);
  });
});
