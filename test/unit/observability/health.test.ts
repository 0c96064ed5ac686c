import { CONTROLLER_NAME, DEFAULT_LEASE_NAME } from "../../../src/api/constants.js";
import { expect } from "chai";
import { Agent, request } from "node:http";
import { startHealthServer, type HealthServer } from "../../../src/observability/health.js";
import { Metrics } from "../../../src/observability/metrics.js";

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** One HTTP request to the server under test (a fresh connection each time: no agent keep-alive). */
function fetchPath(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("health server", () => {
  let server: HealthServer | undefined;
  let live = true;
  let ready = false;
  const metrics = new Metrics({
    controller: CONTROLLER_NAME,
    leaseName: DEFAULT_LEASE_NAME,
    processMetrics: false,
  });

  beforeEach(async () => {
    live = true;
    ready = false;
    server = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      metrics,
      isLive: () => live,
      isReady: () => ready,
    });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function port(): number {
    if (!server) throw new Error("server not started");
    return server.port;
  }

  it("binds an ephemeral port when asked for port 0", () => {
    expect(port()).to.be.greaterThan(0);
  });

  it("answers /healthz with 200 while live and 500 once not", async () => {
    expect(await fetchPath(port(), "/healthz")).to.include({ status: 200, body: "ok" });
    live = false;
    expect((await fetchPath(port(), "/healthz")).status).to.equal(500);
    live = true;
    expect((await fetchPath(port(), "/healthz")).status).to.equal(200);
  });

  it("answers /readyz with 503 until ready, then 200", async () => {
    expect((await fetchPath(port(), "/readyz")).status).to.equal(503);
    ready = true;
    expect(await fetchPath(port(), "/readyz")).to.include({ status: 200, body: "ok" });
    expect((await fetchPath(port(), "/readyz?verbose")).status).to.equal(200);
  });

  it("serves /metrics in the Prometheus text format", async () => {
    metrics.setManagedObjects(5);
    const answer = await fetchPath(port(), "/metrics");
    expect(answer.status).to.equal(200);
    expect(answer.contentType).to.equal(metrics.contentType);
    expect(answer.body).to.match(/^secureworkspace_managed_objects 5$/m);
  });

  it("counts a probe callback that throws as failing, and reports why", async () => {
    await server?.close();
    const errors: unknown[] = [];
    server = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      metrics,
      isLive: () => {
        throw new Error("broken check");
      },
      isReady: () => true,
      onError: (err) => errors.push(err),
    });
    expect((await fetchPath(port(), "/healthz")).status).to.equal(500);
    expect(errors.map(String)).to.deep.equal(["Error: broken check"]);
  });

  it("answers 500 when the metrics cannot be rendered, and reports why", async () => {
    await server?.close();
    const errors: unknown[] = [];
    server = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      metrics: { contentType: "text/plain", render: () => Promise.reject(new Error("collector failed")) },
      isLive: () => true,
      isReady: () => true,
      onError: (err) => errors.push(err),
    });
    expect((await fetchPath(port(), "/metrics")).status).to.equal(500);
    expect(errors).to.have.length(1);
  });

  it("answers 404 for unknown paths and 405 for other methods", async () => {
    expect((await fetchPath(port(), "/nope")).status).to.equal(404);
    expect((await fetchPath(port(), "/healthz", "POST")).status).to.equal(405);
  });

  it("closes even while a client holds a keep-alive connection", async () => {
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: "127.0.0.1", port: port(), path: "/healthz", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      })
        .on("error", reject)
        .end();
    });
    await server?.close();
    server = undefined;
    agent.destroy();
  });

  it("rejects when the port is taken", async () => {
    let failed = false;
    try {
      const second = await startHealthServer({
        port: port(),
        host: "127.0.0.1",
        metrics,
        isLive: () => true,
        isReady: () => true,
      });
      await second.close();
    } catch {
      failed = true;
    }
    expect(failed).to.be.true;
  });
});
