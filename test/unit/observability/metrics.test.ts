import { CONTROLLER_NAME, DEFAULT_LEASE_NAME } from "../../../src/api/constants.js";
import { expect } from "chai";
import { WorkQueue } from "../../../src/runtime/queue.js";
import { Metrics } from "../../../src/observability/metrics.js";
import { waitFor } from "../../support/wait.js";

/** The value of one sample line, e.g. `workqueue_adds_total{name="q"} 2`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const EXPECTED_NAMES = [
  "controller_runtime_reconcile_total",
  "controller_runtime_reconcile_errors_total",
  "controller_runtime_reconcile_time_seconds",
  "workqueue_depth",
  "workqueue_adds_total",
  "workqueue_retries_total",
  "workqueue_queue_duration_seconds",
  "workqueue_work_duration_seconds",
  "leader_election_master_status",
  "secureworkspace_drift_corrections_total",
  "secureworkspace_managed_objects",
  "secureworkspace_workspaces",
  "secureworkspace_api_requests_total",
  "process_resident_memory_bytes",
];

describe("Metrics", () => {
  it("renders every metric under controller-runtime's names after some observations", async () => {
    const m = new Metrics({ controller: CONTROLLER_NAME, leaseName: DEFAULT_LEASE_NAME });
    const sink = m.queueSink("secureworkspace");
    sink.added();
    sink.depth(1);
    sink.queueLatencySeconds(0.01);
    sink.workDurationSeconds(0.2);
    sink.retried();
    m.observeReconcile(0.05, "success");
    m.driftCorrected("default-deny-ingress");
    m.apiRequest("apply", 200);
    m.setLeader(true);
    m.setWorkspaces(2, 1);
    m.setManagedObjects(7);
    const text = await m.render();
    for (const name of EXPECTED_NAMES) expect(text, name).to.match(new RegExp(`^# TYPE ${name} `, "m"));
    expect(sample(text, 'secureworkspace_drift_corrections_total{control="default-deny-ingress"}')).to.equal(
      1,
    );
    expect(sample(text, 'secureworkspace_api_requests_total{verb="apply",code="200"}')).to.equal(1);
    expect(sample(text, 'leader_election_master_status{name="secure-workspace-operator"}')).to.equal(1);
    expect(sample(text, 'secureworkspace_workspaces{ready="true"}')).to.equal(2);
    expect(sample(text, 'secureworkspace_workspaces{ready="false"}')).to.equal(1);
    expect(sample(text, "secureworkspace_managed_objects")).to.equal(7);
  });

  it("exposes every reconcile result at zero before the first reconcile", async () => {
    const text = await new Metrics({
      controller: CONTROLLER_NAME,
      leaseName: DEFAULT_LEASE_NAME,
      processMetrics: false,
    }).render();
    for (const result of ["success", "error", "requeue", "requeue_after"]) {
      expect(
        sample(text, `controller_runtime_reconcile_total{controller="secureworkspace",result="${result}"}`),
      ).to.equal(0);
    }
    expect(sample(text, 'controller_runtime_reconcile_errors_total{controller="secureworkspace"}')).to.equal(
      0,
    );
    expect(text).not.to.contain("process_resident_memory_bytes");
  });

  it("counts an error reconcile in both the total and the error counter", async () => {
    const m = new Metrics({ controller: "ws", leaseName: DEFAULT_LEASE_NAME, processMetrics: false });
    m.observeReconcile(0.1, "error");
    m.observeReconcile(0.3, "requeue_after");
    const text = await m.render();
    expect(sample(text, 'controller_runtime_reconcile_total{controller="ws",result="error"}')).to.equal(1);
    expect(
      sample(text, 'controller_runtime_reconcile_total{controller="ws",result="requeue_after"}'),
    ).to.equal(1);
    expect(sample(text, 'controller_runtime_reconcile_errors_total{controller="ws"}')).to.equal(1);
    expect(sample(text, 'controller_runtime_reconcile_time_seconds_count{controller="ws"}')).to.equal(2);
    expect(sample(text, 'controller_runtime_reconcile_time_seconds_sum{controller="ws"}')).to.be.closeTo(
      0.4,
      1e-9,
    );
  });

  it("keeps separate instances apart (each owns its registry)", async () => {
    const a = new Metrics({
      controller: CONTROLLER_NAME,
      leaseName: DEFAULT_LEASE_NAME,
      processMetrics: false,
    });
    const b = new Metrics({
      controller: CONTROLLER_NAME,
      leaseName: DEFAULT_LEASE_NAME,
      processMetrics: false,
    });
    a.setManagedObjects(3);
    expect(sample(await a.render(), "secureworkspace_managed_objects")).to.equal(3);
    expect(sample(await b.render(), "secureworkspace_managed_objects")).to.equal(0);
  });

  it("records a real work queue's adds, retries and durations through its sink", async () => {
    const m = new Metrics({
      controller: CONTROLLER_NAME,
      leaseName: DEFAULT_LEASE_NAME,
      processMetrics: false,
    });
    const queue = new WorkQueue({ workers: 1, baseDelayMs: 1, onMetrics: m.queueSink("q") });
    const stop = new AbortController();
    let runs = 0;
    queue.start(() => {
      runs++;
      return runs === 1 ? Promise.reject(new Error("first run fails")) : Promise.resolve({});
    }, stop.signal);
    queue.add("a");
    await waitFor(() => runs >= 2, { message: "the retried run" });
    stop.abort();
    await queue.shutdown(1000);
    const text = await m.render();
    expect(sample(text, 'workqueue_adds_total{name="q"}')).to.equal(2); // the add and the retry's re-add
    expect(sample(text, 'workqueue_retries_total{name="q"}')).to.equal(1);
    expect(sample(text, 'workqueue_work_duration_seconds_count{name="q"}')).to.equal(2);
    expect(sample(text, 'workqueue_queue_duration_seconds_count{name="q"}')).to.equal(2);
    expect(sample(text, 'workqueue_depth{name="q"}')).to.equal(0);
  });

  it("reports the Prometheus text content type", () => {
    expect(
      new Metrics({ controller: CONTROLLER_NAME, leaseName: DEFAULT_LEASE_NAME, processMetrics: false })
        .contentType,
    ).to.match(/^text\/plain; version=0\.0\.4/);
  });
});
