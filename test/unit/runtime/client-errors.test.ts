/**
 * A request that gets no answer says what was asked (verb and path) and why, and is classed as the
 * server's unavailability by type. A closed port on loopback refuses for real; the timeout is a local
 * server that accepts and never answers (a failure a real API server won't produce on demand).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeClient } from "../../../src/runtime/client.js";
import { ApiError, isTransient, RequestError, TimeoutError } from "../../../src/runtime/errors.js";

function clientFor(server: string, timeoutMs?: number): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
  return new KubeClient(kc, { fieldManager: "client-errors-test", ...(timeoutMs ? { timeoutMs } : {}) });
}

const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "ns" } };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("KubeClient errors without an answer", () => {
  it("keeps the verb, path, code and the server's reason and message of a refused request", async () => {
    silent = createServer((_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          reason: "Forbidden",
          message: 'configmaps "x" is forbidden',
          code: 403,
        }),
      );
    });
    const server = silent;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const client = clientFor(`http://127.0.0.1:${String(port)}`);
    const err = await failure(client.apply(configMap));
    client.close();
    expect(err).to.be.instanceOf(ApiError);
    if (!(err instanceof ApiError)) return;
    expect([err.verb, err.path, err.statusCode, err.reason, err.serverMessage]).to.deep.equal([
      "apply",
      "/api/v1/namespaces/ns/configmaps/x",
      403,
      "Forbidden",
      'configmaps "x" is forbidden',
    ]);
    expect(err.message).to.equal(
      'apply /api/v1/namespaces/ns/configmaps/x: 403 Forbidden: configmaps "x" is forbidden',
    );
    expect(isTransient(err)).to.equal(false);
  });

  let silent: Server | undefined;
  afterEach(async () => {
    silent?.closeAllConnections();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    silent = undefined;
  });

  it("names the verb and path of a refused request, keeps the socket error as cause, and is transient", async () => {
    const client = clientFor(`http://127.0.0.1:${String(await closedPort())}`);
    const err = await failure(client.apply(configMap));
    client.close();
    expect(err).to.be.instanceOf(RequestError);
    if (!(err instanceof RequestError)) return;
    expect(err.verb).to.equal("apply");
    expect(err.path).to.equal("/api/v1/namespaces/ns/configmaps/x");
    expect(err.message).to.match(
      /^apply \/api\/v1\/namespaces\/ns\/configmaps\/x: no answer: .*ECONNREFUSED/,
    );
    expect(err.cause).to.have.property("code", "ECONNREFUSED");
    expect(isTransient(err)).to.equal(true);
  });

  it("ends a request the server never answers with a TimeoutError inside a RequestError", async () => {
    silent = createServer(() => undefined);
    const server = silent;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const client = clientFor(`http://127.0.0.1:${String(port)}`, 200);
    const err = await failure(
      client.get({ apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true }, "x", "ns"),
    );
    client.close();
    expect(err).to.be.instanceOf(RequestError);
    expect(err).to.have.property("cause").that.is.instanceOf(TimeoutError);
    expect(isTransient(err)).to.equal(true);
  });
});
