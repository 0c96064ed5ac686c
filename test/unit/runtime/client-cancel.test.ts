/**
 * Cancellation in the API client, against a plain local HTTP server standing in for the API server
 * (what is checked is our socket handling, not the server's behaviour): a client bound to a signal
 * sends nothing once it has aborted, destroys a request in flight, and leaves the root client and
 * other scopes untouched.
 */
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { isAbortError, KubeClient } from "../../../src/runtime/client.js";
import { resourceOfKind } from "../../../src/api/resources.js";

const CONFIG_MAP = resourceOfKind("ConfigMap");

interface Seen {
  method: string;
  url: string;
  closedEarly: boolean;
}

/** A server that answers GETs at once and holds PATCHes until `release` is called. */
async function fakeServer(): Promise<{ server: Server; url: string; seen: Seen[]; release: () => void }> {
  const seen: Seen[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry: Seen = { method: req.method ?? "", url: req.url ?? "", closedEarly: false };
    seen.push(entry);
    res.on("close", () => {
      if (!res.writableEnded) entry.closedEarly = true;
    });
    req.resume();
    if (req.method === "PATCH") held.push(res);
    else res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const release = (): void => {
    for (const res of held.splice(0)) if (!res.destroyed) res.end("{}");
  };
  return { server, url: `http://127.0.0.1:${String(port)}`, seen, release };
}

function clientFor(url: string, observed: string[]): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
  return new KubeClient(kc, {
    fieldManager: "client-cancel-test",
    onRequest: (verb, code) => observed.push(`${verb} ${String(code)}`),
  });
}

const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "ns" } };

describe("KubeClient.withSignal", () => {
  let fake: Awaited<ReturnType<typeof fakeServer>>;
  let observed: string[];
  let root: KubeClient;

  beforeEach(async () => {
    fake = await fakeServer();
    observed = [];
    root = clientFor(fake.url, observed);
  });

  afterEach(async () => {
    fake.release();
    root.close();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });

  it("sends nothing once its signal has aborted, and says it was cancelled", async () => {
    const scope = new AbortController();
    const scoped = root.withSignal(scope.signal);
    await scoped.get(CONFIG_MAP, "x", "ns");
    scope.abort(new Error("leadership lost"));

    const err: unknown = await scoped.apply(configMap).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(isAbortError(err)).to.equal(true);
    expect(String(err)).to.contain("leadership lost");
    expect(fake.seen.map((s) => s.method)).to.deep.equal(["GET"]);
  });

  it("destroys a request in flight when its signal aborts", async () => {
    const scope = new AbortController();
    const pending = root.withSignal(scope.signal).apply(configMap);
    await waitUntil(() => fake.seen.length === 1);

    scope.abort();

    const err: unknown = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAbortError(err)).to.equal(true);
    await waitUntil(() => fake.seen[0]?.closedEarly === true);
    expect(observed).to.deep.equal(["aborted 0"]);
  });

  it("leaves the root client and sibling scopes working, on the same connections", async () => {
    const cancelled = new AbortController();
    cancelled.abort();
    const sibling = root.withSignal(new AbortController().signal);

    await root.get(CONFIG_MAP, "x", "ns");
    await sibling.get(CONFIG_MAP, "x", "ns");
    const refused: unknown = await root
      .withSignal(cancelled.signal)
      .get(CONFIG_MAP, "x", "ns")
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(isAbortError(refused)).to.equal(true);
    expect(fake.seen.map((s) => s.method)).to.deep.equal(["GET", "GET"]);
    expect(observed).to.deep.equal(["get 200", "get 200"]);
  });

  it("a scope of a scope is cancelled by either signal", async () => {
    const outer = new AbortController();
    const inner = new AbortController();
    const nested = root.withSignal(outer.signal).withSignal(inner.signal);
    outer.abort();

    const err: unknown = await nested.get(CONFIG_MAP, "x", "ns").then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(isAbortError(err)).to.equal(true);
    expect(fake.seen).to.deep.equal([]);
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check(), "condition reached").to.equal(true);
}
