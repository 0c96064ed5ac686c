/**
 * The cache's memory of the operator's own writes, against a fake API server: every list is empty
 * and the NetworkPolicy watch sends what the test asks. An HTTP fake because the order tested here
 * (the watch event of a write arrives before the write's own answer) is a race on a real server.
 */
import { expect } from "chai";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ClusterCache } from "../../../src/controller/cache.js";
import { KubeClient, type KubeObject } from "../../../src/runtime/client.js";
import { KubeConfig } from "@kubernetes/client-node";
import { waitFor } from "../../support/wait.js";
import { FIELD_MANAGER } from "../../../src/api/constants.js";
import { RESOURCES } from "../../../src/api/resources.js";

const policy = (resourceVersion: string): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name: "sws-default-deny",
    namespace: "team-a",
    uid: "u-1",
    resourceVersion,
    labels: { "app.kubernetes.io/managed-by": "secure-workspace-operator" },
  },
  spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
});

describe("ClusterCache's own writes", () => {
  let server: Server;
  let policyWatch: ServerResponse | undefined;
  let cache: ClusterCache;
  let kube: KubeClient;

  beforeEach(async () => {
    policyWatch = undefined;
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://fake");
      res.writeHead(200, { "Content-Type": "application/json" });
      if (url.searchParams.get("watch") !== "true") {
        res.end(JSON.stringify({ metadata: { resourceVersion: "5" }, items: [] }));
        return;
      }
      if (url.pathname === "/apis/networking.k8s.io/v1/networkpolicies") policyWatch = res;
      res.flushHeaders(); // every watch stays open until the test ends
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const access = new KubeConfig();
    access.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${String(port)}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "ctx", cluster: "c", user: "u" }],
      currentContext: "ctx",
    });
    kube = new KubeClient(access, { fieldManager: FIELD_MANAGER, resources: RESOURCES });
    cache = new ClusterCache(access, kube);
    await cache.start();
    await cache.waitForSync(AbortSignal.timeout(10_000));
    await waitFor(() => policyWatch !== undefined, { timeoutMs: 10_000, message: "the NetworkPolicy watch" });
  });

  afterEach(async () => {
    await cache.stop();
    kube.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function watchEvent(type: string, object: KubeObject): void {
    policyWatch?.write(`${JSON.stringify({ type, object })}\n`);
  }

  const cached = (): KubeObject | undefined => cache.get("NetworkPolicy", "team-a", "sws-default-deny");

  it("remembers a write until its watch event arrives, then forgets it", async () => {
    cache.recordWrite("NetworkPolicy", policy("10"));
    expect(cache.pendingWrites()).to.equal(1);
    expect(cached()?.metadata.resourceVersion).to.equal("10"); // read-your-writes before the event
    watchEvent("ADDED", policy("10"));
    await waitFor(() => cache.pendingWrites() === 0, { timeoutMs: 10_000, message: "the echo" });
  });

  it("does not remember a write whose watch event arrived before its answer", async () => {
    watchEvent("ADDED", policy("10"));
    await waitFor(() => cached() !== undefined, { timeoutMs: 10_000, message: "the event" });
    cache.recordWrite("NetworkPolicy", policy("10"));
    expect(cache.pendingWrites()).to.equal(0);
    expect(cached()?.metadata.resourceVersion).to.equal("10");
  });

  it("does not remember a delete whose watch event arrived first, and shows the object gone", async () => {
    watchEvent("ADDED", policy("10"));
    await waitFor(() => cached() !== undefined, { timeoutMs: 10_000, message: "the add" });
    const seen = cached();
    watchEvent("DELETED", policy("11"));
    await waitFor(() => cached() === undefined, { timeoutMs: 10_000, message: "the delete" });
    if (seen) cache.recordWrite("NetworkPolicy", seen, true);
    expect(cache.pendingWrites()).to.equal(0);
    expect(cached()).to.equal(undefined);
  });

  it("still hides an object it deleted while the watch has not yet said so", async () => {
    watchEvent("ADDED", policy("10"));
    await waitFor(() => cached() !== undefined, { timeoutMs: 10_000, message: "the add" });
    const seen = cached();
    if (seen) cache.recordWrite("NetworkPolicy", seen, true);
    expect(cache.pendingWrites()).to.equal(1);
    expect(cached()).to.equal(undefined);
  });
});
