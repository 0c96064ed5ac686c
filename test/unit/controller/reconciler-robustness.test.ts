/**
 * The reconciler against objects that skipped CRD validation (stored before a schema tightened,
 * or under a CRD installed without it): fast-check feeds it arbitrary JSON specs, valid specs
 * with one field mutated to a wrong type, null, a huge number or a prototype-pollution key, and
 * valid specs. Properties (10,000 runs each; SWS_ROBUSTNESS_RUNS overrides):
 *  - reconcile never throws out of the loop (a throw would mean retry-with-back-off forever);
 *  - an invalid spec ends as Stalled=True (reason InvalidSpec) in a status write whose message
 *    names a field path under `spec`, and nothing is changed: no object applied into any
 *    namespace, nothing deleted;
 *  - whatever the spec, no write lands outside the namespaces the spec names, no delete touches
 *    an object not labelled for this workspace, and Object.prototype is never polluted;
 *  - a valid generated spec (test/support/arbitraries.ts) is enforced (not Stalled) and writes
 *    only inside its own namespaces.
 *
 * Unit-level fakes: the reconciler's collaborators are in-memory stand-ins that record what it
 * asks for. They implement only the members the Reconciler calls, so they are passed with
 * `as unknown as ClusterCache` (and KubeClient, MeshDetector, EventRecorder) casts: the real
 * classes hold sockets and informers that a pure property test must not create. The real
 * server's behaviour is the integration and fault suites' job.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  FINALIZER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  WORKSPACE_LABEL,
} from "../../../src/api/constants.js";
import { checkSchema } from "../../../src/api/schema.js";
import type { SecureWorkspace, SecureWorkspaceStatus } from "../../../src/api/types.js";
import type { ClusterCache } from "../../../src/controller/cache.js";
import type { MeshDetector } from "../../../src/controller/mesh-detector.js";
import { Reconciler } from "../../../src/controller/reconciler.js";
import type { KubeClient, KubeObject } from "../../../src/runtime/client.js";
import type { ResourceType } from "../../../src/runtime/resources.js";
import type { EventRecorder } from "../../../src/observability/events.js";
import { validSpec, validWorkspace } from "../../support/arbitraries.js";

const RUNS = Number(process.env["SWS_ROBUSTNESS_RUNS"] ?? 10_000);
const NAME = "robust";
const OPERATOR_NS = "secure-workspace-system";

/** One request the reconciler made. */
interface Write {
  readonly verb: "apply" | "apply-status" | "delete" | "create";
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly body?: KubeObject;
}

/** Records writes; answers like the server would (a resourceVersion), never fails. */
class FakeKube {
  readonly writes: Write[] = [];
  private rv = 100;

  async apply(obj: KubeObject): Promise<KubeObject> {
    this.writes.push({
      verb: "apply",
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      body: obj,
    });
    return Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    this.writes.push({ verb: "create", kind: obj.kind, name: obj.metadata.name, body: obj });
    const uid = `00000000-0000-4000-8000-${String(++this.rv).padStart(12, "0")}`;
    return Promise.resolve({ ...obj, metadata: { ...obj.metadata, uid, resourceVersion: String(this.rv) } });
  }

  async applyStatus(obj: KubeObject): Promise<KubeObject> {
    this.writes.push({ verb: "apply-status", kind: obj.kind, name: obj.metadata.name, body: obj });
    return Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  async delete(r: ResourceType, name: string, namespace?: string): Promise<boolean> {
    this.writes.push({ verb: "delete", kind: r.kind, name, ...(namespace ? { namespace } : {}) });
    return Promise.resolve(true);
  }
}

/**
 * The members of ClusterCache the Reconciler reads, over a fixed set of objects. When the
 * Reconciler starts calling another member, a run fails with "is not a function": add it here.
 */
class FakeCache {
  constructor(
    private readonly ws: SecureWorkspace,
    private readonly objects: KubeObject[],
  ) {}

  workspace(name: string): SecureWorkspace | undefined {
    return name === this.ws.metadata.name ? this.ws : undefined;
  }
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (kind === "Namespace" || o.metadata.namespace === namespace),
    );
  }
  list(kind: string): KubeObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }
  inNamespace(kind: string, namespace: string): KubeObject[] {
    return this.objects.filter((o) => o.kind === kind && o.metadata.namespace === namespace);
  }
  ownedNamespaces(workspace: string): KubeObject[] {
    return this.objects.filter(
      (o) => o.kind === "Namespace" && o.metadata.labels?.[WORKSPACE_LABEL] === workspace,
    );
  }
  managedBy(workspace: string): KubeObject[] {
    return this.objects.filter(
      (o) => o.kind !== "Namespace" && o.metadata.labels?.[WORKSPACE_LABEL] === workspace,
    );
  }
  watching(): boolean {
    return true;
  }
  recordWrite(): void {
    // The reconciler's read-your-writes hint: nothing to remember in a single-pass test.
  }
  async startMeshKinds(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the cluster already holds: the workspace's objects from an earlier, valid generation. */
function earlierObjects(): KubeObject[] {
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [WORKSPACE_LABEL]: NAME };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "old-ns", labels } },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "sws-default-deny", namespace: "old-ns", labels, resourceVersion: "5" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    },
    // Someone else's namespace, which no write may touch.
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "bystander", labels: { team: "x" } } },
  ];
}

interface Run {
  readonly writes: Write[];
  readonly status: SecureWorkspaceStatus | undefined;
  readonly thrown: unknown;
}

/** One reconcile of a workspace holding `spec` (already a JSON value, as the cache would hold it). */
async function reconcileWith(
  spec: unknown,
  options: { istio?: boolean; deleting?: boolean } = {},
): Promise<Run> {
  const ws = {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: {
      name: NAME,
      uid: "uid-robust",
      generation: 2,
      finalizers: [FINALIZER],
      ...(options.deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
    ...(spec === undefined ? {} : { spec }),
  } as unknown as SecureWorkspace;
  const kube = new FakeKube();
  const reconciler = new Reconciler({
    kube: kube as unknown as KubeClient,
    cache: new FakeCache(ws, earlierObjects()) as unknown as ClusterCache,
    mesh: { istioInstalled: async () => Promise.resolve(options.istio ?? true) } as unknown as MeshDetector,
    events: { emit: async () => Promise.resolve() } as unknown as EventRecorder,
    operatorNamespace: OPERATOR_NS,
    now: () => new Date("2025-01-01T00:00:00Z"),
  });
  let thrown: unknown;
  try {
    await reconciler.reconcile(NAME);
  } catch (err) {
    thrown = err;
  }
  const statusWrite = kube.writes.filter((w) => w.verb === "apply-status").at(-1);
  return {
    writes: kube.writes,
    status: statusWrite?.body?.["status"] as SecureWorkspaceStatus | undefined,
    thrown,
  };
}

const stalled = (
  s: SecureWorkspaceStatus | undefined,
): { status: string; reason: string; message: string } | undefined =>
  s?.conditions?.find((c) => c.type === "Stalled");

/** The namespaces a spec names (only well-formed names count). */
function namesOf(spec: unknown): Set<string> {
  const list = (spec as { namespaces?: unknown } | null)?.namespaces;
  return new Set(
    (Array.isArray(list) ? list : [])
      .map((n: unknown) => (n as { name?: unknown } | null)?.name)
      .filter((n): n is string => typeof n === "string"),
  );
}

/**
 * Releasing a namespace this workspace owned but no longer lists: a bare Namespace (name only),
 * which drops the operator's labels. The one legitimate write outside the spec's namespaces.
 */
function isRelease(w: Write): boolean {
  const owner = earlierObjects().find((o) => o.kind === "Namespace" && o.metadata.name === w.name);
  const meta = w.body?.metadata ?? { name: "" };
  return (
    owner?.metadata.labels?.[WORKSPACE_LABEL] === NAME &&
    Object.keys(meta).join() === "name" &&
    Object.keys(w.body ?? {})
      .sort()
      .join() === "apiVersion,kind,metadata"
  );
}

/** Writes outside the spec's namespaces (the workspace's own object and status, and releases, excepted). */
function strayWrites(run: Run, spec: unknown): Write[] {
  const owned = namesOf(spec);
  return run.writes.filter((w) => {
    if (w.kind === "SecureWorkspace") return w.name !== NAME;
    if (w.verb === "delete") return false; // judged by deletesOfOthers
    if (w.kind === "Namespace") return !owned.has(w.name) && !isRelease(w);
    return w.namespace === undefined || !owned.has(w.namespace);
  });
}

/** Deletes of objects not labelled for this workspace (the bystander, or anything unknown). */
function deletesOfOthers(run: Run): Write[] {
  const ours = new Set(
    earlierObjects()
      .filter((o) => o.metadata.labels?.[WORKSPACE_LABEL] === NAME)
      .map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`),
  );
  return run.writes.filter(
    (w) => w.verb === "delete" && !ours.has(`${w.kind}/${w.namespace ?? ""}/${w.name}`),
  );
}

const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
] as const;

/** An object with one dangerous key as an OWN property, as JSON.parse builds it from stored JSON. */
const protoObject: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 }))
  .map(([k, v]) => JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v)}}`) as unknown);

/** Values stored objects can hold where the schema expects something else. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -1, 0, 70_000),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  protoObject,
);

/** The JSON type of a value, for "is this a type change". */
function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Every path into a JSON value (not the root), e.g. ["networkPolicy", "allowIngressFrom", 0, "ports"]. */
function pathsOf(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...at, i], ...pathsOf(v, [...at, i])]);
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...pathsOf(v, [...at, k])]);
  return [];
}

function getAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
}

/** A copy of `value` with the node at `path` replaced (defineProperty: a "__proto__" key stays data). */
function setAt(value: unknown, path: ReadonlyArray<string | number>, next: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, path[path.length - 1] ?? "", {
    value: next,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

/** A valid spec with one node replaced by a wrong value; `typeChanged` says the CRD would refuse it. */
const mutatedSpec = fc.tuple(validSpec, fc.nat(), wrongValue).map(([spec, pick, wrong]) => {
  const paths = pathsOf(spec);
  const path = paths[pick % paths.length] ?? ["namespaces"];
  const original = getAt(spec, path);
  const mutated = JSON.parse(JSON.stringify(setAt(spec, path, wrong))) as unknown;
  const last = path[path.length - 1];
  // int-or-string ports accept a string; null is pruned by the server (treated as absent).
  const typeChanged =
    wrong !== null &&
    jsonType(wrong) !== jsonType(original) &&
    last !== "port" &&
    !(jsonType(original) === "integer" && jsonType(wrong) === "number");
  return { spec: mutated, path: path.join("."), typeChanged };
});

/** A valid spec with a dangerous own key added to one of its objects. */
const pollutedSpec = fc
  .tuple(validSpec, fc.nat(), fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 }))
  .map(([spec, pick, key, value]) => {
    const objects = [[], ...pathsOf(spec)].filter((p) => {
      const v = getAt(spec, p);
      return v !== null && typeof v === "object" && !Array.isArray(v);
    });
    const at = objects[pick % objects.length] ?? [];
    return JSON.parse(JSON.stringify(setAt(spec, [...at, key], value))) as unknown;
  });

/** Object.prototype's own keys, to catch pollution. */
const prototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

/** The common properties of any run, whatever the spec. */
function expectContained(run: Run, spec: unknown): void {
  expect(run.thrown, `reconcile threw: ${String(run.thrown)}`).to.equal(undefined);
  expect(strayWrites(run, spec), "writes outside the spec's namespaces").to.deep.equal([]);
  expect(deletesOfOthers(run), "deletes of objects not labelled for this workspace").to.deep.equal([]);
}

/**
 * A Stalled message names the offending field, never a JavaScript exception: "spec: cannot be
 * read: Cannot read properties of null" tells a user nothing. (Found: `podSecurity: null`, which
 * the schema check treats as absent, as the API server does, crashes applyDefaults.)
 */
function expectClearMessage(run: Run): void {
  const s = stalled(run.status);
  if (s?.status === "True") expect(s.message, "Stalled message").to.not.match(/cannot be read/);
}

/** An invalid spec: Stalled with a field path, nothing applied into namespaces, nothing deleted. */
function expectStalled(run: Run): void {
  const s = stalled(run.status);
  expect(s, "a Stalled condition in a status write").to.not.equal(undefined);
  expect(s?.status).to.equal("True");
  expect(s?.reason).to.equal("InvalidSpec");
  expect(s?.message).to.match(/(^|; )spec([.[]|:)/);
  const changes = run.writes.filter((w) => w.kind !== "SecureWorkspace");
  expect(changes, "writes for an invalid spec").to.deep.equal([]);
}

describe("reconciler robustness against specs that skipped CRD validation (fast-check)", function () {
  this.timeout(600_000);
  let protoBefore: string[];

  beforeEach(() => {
    protoBefore = prototypeKeys();
  });
  afterEach(() => {
    expect(prototypeKeys(), "Object.prototype was modified").to.deep.equal(protoBefore);
    expect(({} as Record<string, unknown>)["polluted"]).to.equal(undefined);
  });

  it("never throws, reports Stalled with a field path, and writes nothing for arbitrary JSON specs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything(), fc.object(), fc.jsonValue(), protoObject, fc.constant(undefined)),
        fc.boolean(),
        async (raw, istio) => {
          // A stored object is JSON: what the cache holds went through JSON.parse.
          const spec = raw === undefined ? undefined : (JSON.parse(JSON.stringify(raw) ?? "null") as unknown);
          const run = await reconcileWith(spec, { istio });
          expectContained(run, spec);
          expectClearMessage(run);
          // Nearly every arbitrary value lacks spec.namespaces; those must stall, nothing else may happen.
          if (namesOf(spec).size === 0) expectStalled(run);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("stalls on a valid spec with one field of the wrong type, null or a huge number", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedSpec, fc.boolean(), async ({ spec, typeChanged }, istio) => {
        const run = await reconcileWith(spec, { istio });
        expectContained(run, spec);
        expectClearMessage(run);
        if (typeChanged) expectStalled(run);
      }),
      { numRuns: RUNS },
    );
  });

  it("is not fooled by __proto__, constructor and friends as keys", async () => {
    await fc.assert(
      fc.asyncProperty(pollutedSpec, async (spec) => {
        const run = await reconcileWith(spec);
        expectContained(run, spec);
        expect(Object.getPrototypeOf(run.writes)).to.equal(Array.prototype);
      }),
      { numRuns: RUNS },
    );
  });

  it("finalizes a workspace with any spec without throwing or touching what is not its own", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          mutatedSpec.map((m) => m.spec),
        ),
        async (spec) => {
          const run = await reconcileWith(spec, { deleting: true });
          expect(run.thrown, `finalize threw: ${String(run.thrown)}`).to.equal(undefined);
          expect(deletesOfOthers(run)).to.deep.equal([]);
          // Namespaces are never deleted: none in the fake carries the created-by annotation.
          expect(run.writes.filter((w) => w.verb === "delete" && w.kind === "Namespace")).to.deep.equal([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("enforces valid generated specs, writing only inside their own namespaces", async () => {
    await fc.assert(
      fc.asyncProperty(validWorkspace, fc.boolean(), async (ws, istio) => {
        // The arbitrary can repeat an entry of a list the CRD declares a set
        // (serviceMesh.authorization.allowFromNamespaces): the API server refuses those, so they
        // are not valid input here. Only the structural schema filters; semantic validation is
        // part of what is tested (a valid spec must not stall).
        fc.pre(checkSchema(ws).length === 0);
        const spec = JSON.parse(JSON.stringify(ws.spec)) as unknown;
        const run = await reconcileWith(spec, { istio });
        expectContained(run, spec);
        const s = stalled(run.status);
        expect(s?.status, `valid spec stalled: ${s?.message ?? ""}`).to.equal("False");
        const applied = run.writes.filter((w) => w.verb === "apply" && w.kind !== "SecureWorkspace");
        expect(applied.length, "a valid Enforce spec writes its objects").to.be.greaterThan(
          ws.spec.enforcement === "Audit" ? -1 : 0,
        );
      }),
      { numRuns: RUNS },
    );
  });
});
