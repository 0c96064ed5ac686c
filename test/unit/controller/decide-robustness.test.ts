/**
 * decide() against objects that skipped CRD validation (stored before a schema tightened, or
 * under a CRD installed without it): fast-check feeds it arbitrary JSON specs, valid specs with
 * one field mutated to a wrong type, null, a huge number or a prototype-pollution key, and valid
 * specs. Properties (10,000 runs each; SWS_ROBUSTNESS_RUNS overrides):
 *  - reading the workspace and deciding never throw (a throw would mean retry-with-back-off forever);
 *  - an invalid spec ends as Stalled=True (reason InvalidSpec) in the decision's status, whose
 *    message names a field path under `spec`, and nothing is changed: no object applied into any
 *    namespace, nothing deleted;
 *  - whatever the spec, no write lands outside the namespaces the spec names, no delete touches
 *    an object not labelled for this workspace, and Object.prototype is never polluted;
 *  - a valid generated spec (test/support/arbitraries.ts) is enforced (not Stalled) and writes
 *    only inside its own namespaces.
 *
 * Plain data: the cluster is a list of objects (support/cluster.ts builds the snapshot the reader
 * would take of it) and the requests are read off the decision. Sending them is the integration
 * and fault suites' job.
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
import { decide, type DecideConfig, type Decision } from "../../../src/controller/decide.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import { validSpec, validWorkspace } from "../../support/arbitraries.js";
import { snapshotOf } from "./support/cluster.js";

const RUNS = Number(process.env["SWS_ROBUSTNESS_RUNS"] ?? 10_000);
const NAME = "robust";
const CONFIG: DecideConfig = { operatorNamespace: "secure-workspace-system", protectedNamespaces: [] };

/** One request a decision asks for. */
interface Write {
  readonly verb: "apply" | "apply-status" | "delete" | "create";
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly body?: KubeObject;
}

const applyOf = (body: KubeObject): Write => ({
  verb: "apply",
  kind: body.kind,
  name: body.metadata.name,
  ...(body.metadata.namespace !== undefined ? { namespace: body.metadata.namespace } : {}),
  body,
});

/** Every request of a decision, in the order the reconciler sends them. */
function writesOf(d: Decision): Write[] {
  const status = (s: SecureWorkspaceStatus | undefined): Write[] =>
    s
      ? [
          {
            verb: "apply-status",
            kind: "SecureWorkspace",
            name: NAME,
            body: { apiVersion: "", kind: "SecureWorkspace", metadata: { name: NAME }, status: s },
          },
        ]
      : [];
  switch (d.mode) {
    case "absent":
    case "finalized":
      return [];
    case "invalid":
      return [...(d.finalizer ? [applyOf(d.finalizer)] : []), ...status(d.status)];
    case "audit":
      return [...(d.finalizer ? [applyOf(d.finalizer)] : []), ...status(d.status)];
    case "enforce":
      return [
        ...(d.finalizer ? [applyOf(d.finalizer)] : []),
        ...[...d.namespaces, ...d.apply].flatMap((step): Write[] => [
          ...(step.create ? [{ ...applyOf(step.create), verb: "create" as const }] : []),
          ...(step.planned.recreateUid ? [{ ...applyOf(step.body), verb: "delete" as const }] : []),
          applyOf(step.body),
        ]),
        ...d.prune.map((p): Write => ({
          verb: "delete",
          kind: p.kind,
          name: p.name,
          namespace: p.namespace,
        })),
        ...d.release.map((r) => applyOf(r.body)),
        ...status(d.status),
      ];
    case "finalize":
      return [
        ...d.deletes.map((x): Write => ({
          verb: "delete",
          kind: x.kind,
          name: x.name,
          ...(x.namespace ? { namespace: x.namespace } : {}),
        })),
        ...d.namespaceDeletes.map((x): Write => ({ verb: "delete", kind: "Namespace", name: x.name })),
        ...d.releases.map((r) => applyOf(r.body)),
        applyOf(d.removeFinalizer),
      ];
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

/** One decision for a workspace holding `spec` (already a JSON value, as the cache would hold it). */
function reconcileWith(spec: unknown, options: { istio?: boolean; deleting?: boolean } = {}): Run {
  const stored: SecureWorkspace = {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: {
      name: NAME,
      uid: "uid-robust",
      generation: 2,
      finalizers: [FINALIZER],
      ...(options.deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
    spec: { namespaces: [] },
  };
  // The cache holds whatever JSON the API server stored: the spec is not checked against its
  // type, which is the point here. Object.assign puts it in place without claiming it was checked.
  const ws: SecureWorkspace = Object.assign(stored, { spec });
  let thrown: unknown;
  let writes: Write[] = [];
  try {
    const snapshot = snapshotOf({ workspace: ws, objects: earlierObjects() }, options.istio ?? true);
    writes = writesOf(decide(snapshot, CONFIG));
  } catch (err) {
    thrown = err;
  }
  const statusWrite = writes.filter((w) => w.verb === "apply-status").at(-1);
  const status: unknown = statusWrite?.body?.["status"];
  return { writes, status: isStatus(status) ? status : undefined, thrown };
}

function isStatus(value: unknown): value is SecureWorkspaceStatus {
  return value !== null && typeof value === "object";
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

describe("decide() robustness against specs that skipped CRD validation (fast-check)", function () {
  this.timeout(600_000);
  let protoBefore: string[];

  beforeEach(() => {
    protoBefore = prototypeKeys();
  });
  afterEach(() => {
    expect(prototypeKeys(), "Object.prototype was modified").to.deep.equal(protoBefore);
    expect(({} as Record<string, unknown>)["polluted"]).to.equal(undefined);
  });

  it("never throws, reports Stalled with a field path, and writes nothing for arbitrary JSON specs", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.object(), fc.jsonValue(), protoObject, fc.constant(undefined)),
        fc.boolean(),
        (raw, istio) => {
          // A stored object is JSON: what the cache holds went through JSON.parse.
          const spec = raw === undefined ? undefined : (JSON.parse(JSON.stringify(raw) ?? "null") as unknown);
          const run = reconcileWith(spec, { istio });
          expectContained(run, spec);
          expectClearMessage(run);
          // Nearly every arbitrary value lacks spec.namespaces; those must stall, nothing else may happen.
          if (namesOf(spec).size === 0) expectStalled(run);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("stalls on a valid spec with one field of the wrong type, null or a huge number", () => {
    fc.assert(
      fc.property(mutatedSpec, fc.boolean(), ({ spec, typeChanged }, istio) => {
        const run = reconcileWith(spec, { istio });
        expectContained(run, spec);
        expectClearMessage(run);
        if (typeChanged) expectStalled(run);
      }),
      { numRuns: RUNS },
    );
  });

  it("is not fooled by __proto__, constructor and friends as keys", () => {
    fc.assert(
      fc.property(pollutedSpec, (spec) => {
        const run = reconcileWith(spec);
        expectContained(run, spec);
        expect(Object.getPrototypeOf(run.writes)).to.equal(Array.prototype);
      }),
      { numRuns: RUNS },
    );
  });

  it("finalizes a workspace with any spec without throwing or touching what is not its own", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          mutatedSpec.map((m) => m.spec),
        ),
        (spec) => {
          const run = reconcileWith(spec, { deleting: true });
          expect(run.thrown, `finalize threw: ${String(run.thrown)}`).to.equal(undefined);
          expect(deletesOfOthers(run)).to.deep.equal([]);
          // Namespaces are never deleted: none in the fake carries the created-by annotation.
          expect(run.writes.filter((w) => w.verb === "delete" && w.kind === "Namespace")).to.deep.equal([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("enforces valid generated specs, writing only inside their own namespaces", () => {
    fc.assert(
      fc.property(validWorkspace, fc.boolean(), (ws, istio) => {
        // The arbitrary can repeat an entry of a list the CRD declares a set
        // (serviceMesh.authorization.allowFromNamespaces): the API server refuses those, so they
        // are not valid input here. Only the structural schema filters; semantic validation is
        // part of what is tested (a valid spec must not stall).
        fc.pre(checkSchema(ws).length === 0);
        const spec = JSON.parse(JSON.stringify(ws.spec)) as unknown;
        const run = reconcileWith(spec, { istio });
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
