import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { ResilientInformer, type RestartInfo } from "../../src/runtime/informer.js";
import { adminKubeConfig, testEnv } from "../harness/test-env.js";
import { sleep, waitFor } from "../support/wait.js";

const LABEL = "informer-test";

/** What one informer reported, in order, for assertions after the fact. */
interface Recorder {
  readonly events: string[];
  readonly errors: Error[];
  readonly restarts: RestartInfo[];
}

function record(informer: ResilientInformer<V1ConfigMap>): Recorder {
  const rec: Recorder = { events: [], errors: [], restarts: [] };
  for (const type of ["add", "update", "delete"] as const) {
    informer.on(type, (cm) => rec.events.push(`${type} ${cm.metadata?.name} ${cm.data?.["v"] ?? ""}`.trim()));
  }
  informer.on("error", (err) => rec.errors.push(err));
  informer.on("restart", (info) => rec.restarts.push(info));
  return rec;
}

describe("ResilientInformer against the real API server", function () {
  this.timeout(300_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;
  const informers: Array<ResilientInformer<V1ConfigMap>> = [];

  function configMapInformer(labelSelector: string): ResilientInformer<V1ConfigMap> {
    const informer = new ResilientInformer<V1ConfigMap>({
      kc,
      name: "ConfigMap",
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      labelSelector,
      list: () => core.listNamespacedConfigMap({ namespace, labelSelector }),
      // Short enough that a lost connection is retried soon after the API server is back.
      backoff: { baseMs: 100, maxMs: 2000 },
    });
    informers.push(informer);
    return informer;
  }

  async function createConfigMap(name: string, labels: Record<string, string>, v = "1"): Promise<void> {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels }, data: { v } } });
  }

  before(async () => {
    kc = adminKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    namespace = `informer-${randomBytes(3).toString("hex")}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
  });

  after(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined); // best-effort cleanup
  });

  it("sees add, update and delete of matching ConfigMaps only, and becomes synced", async () => {
    await createConfigMap("pre-existing", { [LABEL]: "a" });
    await createConfigMap("other-pre-existing", { [LABEL]: "b" });
    const informer = configMapInformer(`${LABEL}=a`);
    const rec = record(informer);
    expect(informer.synced).to.be.false;
    await informer.start();
    await informer.waitForSync(AbortSignal.timeout(60_000));
    expect(informer.synced).to.be.true;
    expect(informer.get("pre-existing", namespace)?.data?.["v"]).to.equal("1");

    await createConfigMap("match", { [LABEL]: "a" });
    await createConfigMap("no-match", { [LABEL]: "b" });
    await waitFor(() => informer.get("match", namespace), { message: "the matching ConfigMap in the cache" });
    await core.patchNamespacedConfigMap({
      name: "match",
      namespace,
      body: [{ op: "replace", path: "/data/v", value: "2" }],
    });
    await waitFor(() => informer.get("match", namespace)?.data?.["v"] === "2", { message: "the update" });
    await core.deleteNamespacedConfigMap({ name: "match", namespace });
    await waitFor(() => informer.get("match", namespace) === undefined, { message: "the delete" });

    expect(rec.events).to.deep.equal([
      "add pre-existing 1",
      "add match 1",
      "update match 2",
      "delete match 2",
    ]);
    expect(informer.list(namespace).map((cm) => cm.metadata?.name)).to.deep.equal(["pre-existing"]);
    expect(rec.errors).to.deep.equal([]);
  });

  it("recovers by itself after the API server is killed and started again", async function () {
    const cluster = testEnv().cluster;
    if (!cluster) this.skip(); // SWS_TEST_KUBECONFIG points at a cluster this run does not control

    await createConfigMap("before-restart", { [LABEL]: "restart" });
    const informer = configMapInformer(`${LABEL}=restart`);
    const rec = record(informer);
    await informer.start();
    await informer.waitForSync(AbortSignal.timeout(60_000));
    expect(informer.get("before-restart", namespace)).to.not.equal(undefined);

    await cluster.kill("apiserver");
    await waitFor(() => rec.restarts.length > 0, { message: "the informer to notice the dead API server" });
    await cluster.startApiServer();
    // The server may still refuse some writes right after /readyz; retry the create until it lands.
    await waitFor(
      async () => {
        await createConfigMap("after-restart", { [LABEL]: "restart" }).catch((err: unknown) => {
          if ((err as { code?: number }).code !== 409) throw err; // 409: an earlier try landed
        });
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500, message: "a ConfigMap create after the restart" },
    );
    await waitFor(() => informer.get("after-restart", namespace), {
      timeoutMs: 120_000,
      message: () =>
        `the informer to see the new ConfigMap (restarts: ${JSON.stringify(rec.restarts.slice(-3))})`,
    });
    expect(informer.get("before-restart", namespace)).to.not.equal(undefined);
    expect(rec.events).to.include("add after-restart 1");
    // Every failure was reported, and each restart carried the error it was for.
    expect(rec.errors.length).to.be.at.least(1);
    expect(rec.restarts.filter((r) => r.reason === "error").every((r) => r.error !== undefined)).to.be.true;
  });

  it("emits no error and no further events after stop()", async () => {
    const selector = `${LABEL}=stop`;
    const informer = configMapInformer(selector);
    const rec = record(informer);
    await informer.start();
    await informer.waitForSync(AbortSignal.timeout(60_000));
    await createConfigMap("seen", { [LABEL]: "stop" });
    await waitFor(() => informer.get("seen", namespace), { message: "the first ConfigMap" });

    await informer.stop();
    const afterStop = { events: rec.events.length, errors: rec.errors.length, restarts: rec.restarts.length };
    // A second informer is the witness: once it has seen the next change, the stopped one would have.
    const witness = configMapInformer(selector);
    await witness.start();
    await witness.waitForSync(AbortSignal.timeout(60_000));
    await createConfigMap("unseen", { [LABEL]: "stop" });
    await core.deleteNamespacedConfigMap({ name: "seen", namespace });
    await waitFor(() => witness.get("unseen", namespace) && !witness.get("seen", namespace), {
      message: "the witness to see the changes",
    });
    await sleep(500); // a little slack for a (wrongly) still-open stream; not a timing assertion

    expect(rec.events.length).to.equal(afterStop.events);
    expect(rec.errors.length).to.equal(afterStop.errors);
    expect(rec.restarts.length).to.equal(afterStop.restarts);
    expect(rec.errors).to.deep.equal([]);
    await informer.start().then(
      () => expect.fail("a stopped informer must not start again"),
      (err: Error) => expect(err.message).to.match(/stopped/),
    );
  });
});
