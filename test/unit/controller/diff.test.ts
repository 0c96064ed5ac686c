/** Desired vs observed (src/controller/diff.ts): what contains() accepts and what plan() decides. */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults } from "../../../src/api/defaults.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import {
  APPLIED_HASH_ANNOTATION,
  contains,
  contentHash,
  inSync,
  objectKey,
  plan,
  withAppliedHash,
  type ObservedObject,
} from "../../../src/controller/diff.js";

const WORKSPACE = { name: "team-a", uid: "uid-team-a" };
const MANAGED_LABELS = {
  "app.kubernetes.io/managed-by": "secure-workspace-operator",
  "secureworkspace.io/workspace": "team-a",
};

/** Minimal workspace with a quota: Namespace, three NetworkPolicies, sws-quota. */
const DESIRED: readonly DesiredObject[] = desiredStateOf(
  WORKSPACE,
  applyDefaults({
    namespaces: [{ name: "team-a-dev" }],
    resourceQuota: { hard: { "requests.cpu": "1", pods: "10" } },
  }),
);

/** What the API server returns for an object the operator applied: server fields added, no apiVersion/kind. */
function asServerHolds(obj: DesiredObject, uid: string): ObservedObject {
  const held: ObservedObject = structuredClone(withAppliedHash(obj));
  // Items of a list response carry no apiVersion/kind.
  delete held.apiVersion;
  delete held.kind;
  held.metadata = {
    ...held.metadata,
    uid,
    resourceVersion: "42",
    creationTimestamp: "2025-01-01T00:00:00Z",
  } as ObservedObject["metadata"];
  return held;
}

type Lookup = (kind: string, namespace: string | undefined, name: string) => ObservedObject | undefined;

/** A cache lookup in which these desired objects are in place exactly as the operator applied them. */
function inPlace(desired: readonly DesiredObject[] = DESIRED): Lookup {
  const byKey = new Map(
    desired.map((d, i) => [
      objectKey(d.kind, d.metadata.namespace, d.metadata.name),
      asServerHolds(d, `uid-${i}`),
    ]),
  );
  return (kind, namespace, name) => byKey.get(objectKey(kind, namespace, name));
}

const byName = (name: string): DesiredObject => {
  const found = DESIRED.find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no desired ${name}`);
  return found;
};

describe("contains", () => {
  it("accepts maps with extra keys: server defaults and other owners' labels", () => {
    expect(
      contains(
        { metadata: { labels: { app: "a" } }, spec: { podSelector: {} } },
        {
          metadata: { labels: { app: "a", "team.example.com/x": "y" }, uid: "u" },
          spec: { podSelector: {} },
          status: {},
        },
      ),
    ).to.be.true;
  });

  it("refuses a map missing a key or holding another value", () => {
    expect(contains({ metadata: { labels: { app: "a" } } }, { metadata: { labels: {} } })).to.be.false;
    expect(contains({ metadata: { labels: { app: "a" } } }, { metadata: { labels: { app: "b" } } })).to.be
      .false;
    expect(contains({ metadata: { labels: { app: "a" } } }, { metadata: {} })).to.be.false;
  });

  it("requires lists to match item by item: an extra rule, a missing rule or another order all differ", () => {
    const desired = { spec: { egress: [{ to: [{ podSelector: {} }] }, { ports: [{ port: 53 }] }] } };
    expect(
      contains(desired, { spec: { egress: [{ to: [{ podSelector: {} }] }, { ports: [{ port: 53 }] }] } }),
    ).to.be.true;
    expect(
      contains(desired, {
        spec: {
          egress: [
            { to: [{ podSelector: {} }] },
            { ports: [{ port: 53 }] },
            { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] },
          ],
        },
      }),
    ).to.be.false;
    expect(contains(desired, { spec: { egress: [{ to: [{ podSelector: {} }] }] } })).to.be.false;
    expect(
      contains(desired, { spec: { egress: [{ ports: [{ port: 53 }] }, { to: [{ podSelector: {} }] }] } }),
    ).to.be.false;
  });

  it("lets list items hold extra keys the server added", () => {
    expect(
      contains({ spec: { ports: [{ port: 53 }] } }, { spec: { ports: [{ port: 53, protocol: "TCP" }] } }),
    ).to.be.true;
  });

  it("compares quantities by value inside spec", () => {
    expect(
      contains({ spec: { hard: { "requests.cpu": "1000m" } } }, { spec: { hard: { "requests.cpu": "1" } } }),
    ).to.be.true;
    expect(contains({ spec: { hard: { memory: "1Gi" } } }, { spec: { hard: { memory: "1073741824" } } })).to
      .be.true;
    expect(contains({ spec: { hard: { memory: "1Gi" } } }, { spec: { hard: { memory: "1G" } } })).to.be.false;
    expect(contains({ hard: { cpu: "0.5" } }, { hard: { cpu: "500m" } }, { quantity: true, exact: false })).to
      .be.true;
  });

  it("compares strings outside spec exactly, even when they read as the same quantity", () => {
    expect(contains({ metadata: { labels: { size: "1" } } }, { metadata: { labels: { size: "1000m" } } })).to
      .be.false;
    expect(contains({ roleRef: { name: "1k" } }, { roleRef: { name: "1000" } })).to.be.false;
  });

  it("never equates a number with a string", () => {
    expect(contains({ spec: { port: 53 } }, { spec: { port: "53" } })).to.be.false;
    expect(contains({ spec: { port: "53" } }, { spec: { port: 53 } })).to.be.false;
  });

  it("compares exactly where asked: another key holding a value differs, an absent or empty one does not", () => {
    const exact = { quantity: false, exact: true };
    expect(contains({ podSelector: {} }, { podSelector: { matchLabels: { only: "these" } } }, exact)).to.be
      .false;
    expect(contains({ ports: [{ port: 53 }] }, { ports: [{ port: 53, endPort: 65535 }] }, exact)).to.be.false;
    expect(contains({ podSelector: {}, ingress: [] }, { podSelector: {}, egress: [], x: null }, exact)).to.be
      .true;
  });

  it("lets an empty desired list match an absent field (the server drops empty lists)", () => {
    expect(contains({ spec: { ingress: [], egress: [] } }, { spec: {} })).to.be.true;
    expect(contains({ spec: { ingress: [] } }, { spec: { ingress: null } })).to.be.true;
    expect(contains({ spec: { ingress: [] } }, { spec: { ingress: [] } })).to.be.true;
  });

  it("does not let an empty desired list match a list someone filled in", () => {
    expect(contains({ spec: { ingress: [] } }, { spec: { ingress: [{ from: [{ podSelector: {} }] }] } })).to
      .be.false;
  });

  it("does not let a non-empty desired list match an absent field", () => {
    expect(contains({ spec: { egress: [{ to: [] }] } }, { spec: {} })).to.be.false;
  });

  it("ignores desired keys whose value is undefined", () => {
    expect(
      contains(
        { apiVersion: undefined, kind: undefined, metadata: { name: "x" } },
        { metadata: { name: "x" } },
      ),
    ).to.be.true;
  });

  it("refuses a shape mismatch: map against list, list against map, map against scalar", () => {
    expect(contains({ a: {} }, { a: [] })).to.be.false;
    expect(contains({ a: [] }, { a: {} })).to.be.false;
    expect(contains({ a: { b: "c" } }, { a: "b" })).to.be.false;
    expect(contains({ a: {} }, { a: null })).to.be.false;
  });

  it("holds for every desired object against itself as the server returns it", () => {
    for (const obj of DESIRED) {
      const applied = withAppliedHash(obj);
      expect(
        contains({ ...applied, apiVersion: undefined, kind: undefined }, asServerHolds(obj, "u")),
        obj.metadata.name,
      ).to.be.true;
    }
  });
});

describe("contentHash and withAppliedHash", () => {
  it("does not depend on key order", () => {
    const a: DesiredObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", labels: { a: "1", b: "2" } },
    };
    const b: DesiredObject = {
      metadata: { labels: { b: "2", a: "1" }, name: "x" },
      kind: "ConfigMap",
      apiVersion: "v1",
    };
    expect(contentHash(a)).to.equal(contentHash(b));
  });

  it("changes when the content changes", () => {
    const np = byName("sws-default-deny");
    const changed = { ...np, spec: { ...(np["spec"] as object), policyTypes: ["Ingress"] } };
    expect(contentHash(changed)).to.not.equal(contentHash(np));
  });

  it("records the hash of the object without the annotation, leaving the input alone", () => {
    const ns = DESIRED[0];
    const before = structuredClone(ns);
    const applied = withAppliedHash(ns);
    expect(applied.metadata.annotations).to.deep.equal({
      ...ns?.metadata.annotations,
      [APPLIED_HASH_ANNOTATION]: contentHash(ns),
    });
    expect(APPLIED_HASH_ANNOTATION).to.equal("secureworkspace.io/applied-hash");
    expect(contentHash(ns)).to.match(/^[0-9a-f]{16}$/);
    expect(ns).to.deep.equal(before);
  });
});

describe("inSync", () => {
  const held = (name: string): ObservedObject => asServerHolds(byName(name), "u");

  it("holds objects exactly as the server returns what the operator applied", () => {
    for (const desired of DESIRED)
      expect(inSync(desired, asServerHolds(desired, "u")), desired.kind).to.be.true;
  });

  it("lets other owners add labels and annotations", () => {
    const ns = held("team-a-dev");
    ns.metadata = { ...ns.metadata, labels: { ...ns.metadata?.labels, "team.example.com/cost": "x" } };
    expect(inSync(byName("team-a-dev"), ns)).to.be.true;
  });

  it("sees a default deny narrowed by a podSelector someone added", () => {
    const policy = held("sws-default-deny");
    policy["spec"] = { ...(policy["spec"] as object), podSelector: { matchLabels: { only: "these" } } };
    expect(inSync(byName("sws-default-deny"), policy)).to.be.false;
  });

  it("sees the DNS port widened to a range by an added endPort", () => {
    const policy = held("sws-allow-dns");
    const spec = policy["spec"] as { egress: Array<{ ports?: Array<Record<string, unknown>> }> };
    for (const rule of spec.egress) for (const port of rule.ports ?? []) port["endPort"] = 65535;
    expect(inSync(byName("sws-allow-dns"), policy)).to.be.false;
  });

  it("sees a quota narrowed by an added scope", () => {
    const quota = held("sws-quota");
    quota["spec"] = { ...(quota["spec"] as object), scopes: ["BestEffort"] };
    expect(inSync(byName("sws-quota"), quota)).to.be.false;
  });
});

describe("plan", () => {
  it("is empty when every desired object is in place as last applied", () => {
    expect(plan(DESIRED, inPlace(), [], true)).to.deep.equal({ apply: [], prune: [], foreign: [] });
  });

  it("creates every object of a new workspace as Missing, not drift", () => {
    const result = plan(DESIRED, () => undefined, [], false);
    expect(result.apply.map((a) => [a.object.kind, a.object.metadata.name, a.reason, a.drift])).to.deep.equal(
      [
        ["Namespace", "team-a-dev", "Missing", false],
        ["NetworkPolicy", "sws-default-deny", "Missing", false],
        ["NetworkPolicy", "sws-allow-same-namespace", "Missing", false],
        ["NetworkPolicy", "sws-allow-dns", "Missing", false],
        ["ResourceQuota", "sws-quota", "Missing", false],
      ],
    );
    expect(result.prune).to.deep.equal([]);
  });

  it("applies each object with its content hash recorded", () => {
    const [first] = plan(DESIRED, () => undefined, [], false).apply;
    expect(first?.object).to.deep.equal(withAppliedHash(DESIRED[0]));
  });

  it("calls a deleted object of a converged workspace Missing drift", () => {
    const observed = inPlace();
    const result = plan(
      DESIRED,
      (kind, ns, name) => (name === "sws-default-deny" ? undefined : observed(kind, ns, name)),
      [],
      true,
    );
    expect(result.apply).to.have.length(1);
    expect(result.apply[0]).to.deep.include({ reason: "Missing", drift: true });
    expect(result.apply[0]?.object.metadata.name).to.equal("sws-default-deny");
  });

  it("treats an object that is being deleted as Missing", () => {
    const observed = inPlace();
    const result = plan(
      DESIRED,
      (kind, ns, name) => {
        const o = observed(kind, ns, name);
        return name === "sws-quota" && o
          ? { ...o, metadata: { ...o.metadata, deletionTimestamp: "2025-01-01T00:00:00Z" } }
          : o;
      },
      [],
      true,
    );
    expect(result.apply.map((a) => [a.object.metadata.name, a.reason])).to.deep.equal([
      ["sws-quota", "Missing"],
    ]);
  });

  it("calls a change to what the operator applied Differs, and drift", () => {
    const observed = inPlace();
    const tampered: Lookup = (kind, ns, name) => {
      const o = observed(kind, ns, name);
      if (!o || name !== "sws-default-deny") return o;
      // Someone allowed all ingress through the managed default-deny policy.
      return { ...o, spec: { ...(o["spec"] as object), ingress: [{}] } };
    };
    const result = plan(DESIRED, tampered, [], true);
    expect(result.apply.map((a) => [a.object.metadata.name, a.reason, a.drift])).to.deep.equal([
      ["sws-default-deny", "Differs", true],
    ]);
  });

  it("calls a removed operator label on the Namespace Differs, and drift", () => {
    const observed = inPlace();
    const result = plan(
      DESIRED,
      (kind, ns, name) => {
        const o = observed(kind, ns, name);
        if (!o || kind !== "Namespace") return o;
        const labels = { ...(o.metadata?.labels ?? {}) };
        delete labels["pod-security.kubernetes.io/enforce"];
        return { ...o, metadata: { ...o.metadata, labels } };
      },
      [],
      true,
    );
    expect(result.apply.map((a) => [a.object.kind, a.reason, a.drift])).to.deep.equal([
      ["Namespace", "Differs", true],
    ]);
  });

  it("calls an object applied from an older spec Outdated, not drift", () => {
    const oldSpec = desiredStateOf(
      WORKSPACE,
      applyDefaults({
        namespaces: [{ name: "team-a-dev" }],
        resourceQuota: { hard: { "requests.cpu": "1", pods: "5" } },
      }),
    );
    const result = plan(DESIRED, inPlace(oldSpec), [], true);
    expect(result.apply.map((a) => [a.object.metadata.name, a.reason, a.drift])).to.deep.equal([
      ["sws-quota", "Outdated", false],
    ]);
  });

  it("calls a differing object without the hash annotation Outdated (the operator never applied it)", () => {
    const observed = inPlace();
    const result = plan(
      DESIRED,
      (kind, ns, name) => {
        const o = observed(kind, ns, name);
        if (!o || name !== "sws-quota") return o;
        return { ...o, metadata: { ...o.metadata, annotations: {} } };
      },
      [],
      true,
    );
    expect(result.apply.map((a) => [a.object.metadata.name, a.reason, a.drift])).to.deep.equal([
      ["sws-quota", "Outdated", false],
    ]);
  });

  it("accepts quantities the server canonicalised", () => {
    const quota = byName("sws-quota");
    const observed = inPlace();
    const result = plan(
      [quota],
      (kind, ns, name) => {
        const o = observed(kind, ns, name);
        return o ? { ...o, spec: { hard: { "requests.cpu": "1000m", pods: "10" } } } : o;
      },
      [],
      true,
    );
    expect(result.apply).to.deep.equal([]);
  });

  it("prunes only managed objects the spec no longer asks for, keeping their uid", () => {
    const managed: ObservedObject[] = [
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "sws-default-deny", namespace: "team-a-dev", uid: "u1", labels: MANAGED_LABELS },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "sws-allow-egress", namespace: "team-a-dev", uid: "u2", labels: MANAGED_LABELS },
      },
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: "sws-limits", namespace: "team-a-dev", labels: MANAGED_LABELS },
      },
      {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: { name: "sws-quota", namespace: "team-a-old", uid: "u3", labels: MANAGED_LABELS },
      },
    ];
    expect(plan(DESIRED, inPlace(), managed, true).prune).to.deep.equal([
      {
        kind: "NetworkPolicy",
        apiVersion: "networking.k8s.io/v1",
        namespace: "team-a-dev",
        name: "sws-allow-egress",
        uid: "u2",
      },
      { kind: "LimitRange", apiVersion: "v1", namespace: "team-a-dev", name: "sws-limits" },
      { kind: "ResourceQuota", apiVersion: "v1", namespace: "team-a-old", name: "sws-quota", uid: "u3" },
    ]);
  });

  it("never prunes a Namespace, even one the spec dropped", () => {
    const managed: ObservedObject[] = [
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "team-a-old", uid: "n1", labels: MANAGED_LABELS },
      },
    ];
    expect(plan(DESIRED, inPlace(), managed, true).prune).to.deep.equal([]);
  });

  it("skips managed entries without a kind or a name", () => {
    const managed: ObservedObject[] = [
      { metadata: { name: "nameless-kind" } },
      { kind: "ConfigMap", metadata: {} },
    ];
    expect(plan(DESIRED, inPlace(), managed, true).prune).to.deep.equal([]);
  });

  it("never applies and prunes the same object", () => {
    fc.assert(
      fc.property(
        fc.subarray([...DESIRED]),
        fc.subarray([...DESIRED]),
        fc.boolean(),
        (present, managedSubset, converged) => {
          const observed = inPlace(present);
          const managed = managedSubset.map((d) => ({
            apiVersion: d.apiVersion,
            kind: d.kind,
            metadata: { ...d.metadata },
          }));
          const result = plan(DESIRED, observed, managed, converged);
          expect(result.prune).to.deep.equal([]);
          expect(result.apply.map((a) => a.object.metadata.name)).to.deep.equal(
            DESIRED.filter((d) => !present.includes(d)).map((d) => d.metadata.name),
          );
          for (const a of result.apply) expect(a).to.deep.include({ reason: "Missing", drift: converged });
        },
      ),
    );
  });
});

describe("plan: ownership", () => {
  // As the operator applied them: the desired ownerReference (the workspace's uid) included.
  const ours = (d: DesiredObject, i: number): ObservedObject => asServerHolds(d, `uid-${i}`);
  const lookup =
    (override: (d: DesiredObject, i: number) => ObservedObject | undefined): Lookup =>
    (kind, namespace, name) => {
      const i = DESIRED.findIndex(
        (d) => d.kind === kind && d.metadata.name === name && d.metadata.namespace === namespace,
      );
      const d = DESIRED[i];
      return d ? override(d, i) : undefined;
    };

  it("reports an object at a desired name without the workspace's controller reference, and never applies it", () => {
    const decoy = byName("sws-default-deny");
    const result = plan(
      DESIRED,
      lookup((d, i) =>
        d === decoy
          ? { metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: "tenant" }, spec: {} }
          : ours(d, i),
      ),
      [],
      true,
      WORKSPACE.uid,
    );
    expect(result.apply).to.deep.equal([]);
    expect(result.foreign.map((f) => f.object.metadata.name)).to.deep.equal(["sws-default-deny"]);
  });

  it("names the other controller of a foreign object", () => {
    const result = plan(
      DESIRED,
      lookup((d, i) => {
        const held = ours(d, i);
        if (d.metadata.name === "sws-quota")
          held.metadata = {
            ...held.metadata,
            ownerReferences: [{ kind: "SecureWorkspace", name: "team-a", uid: "old-uid", controller: true }],
          };
        return held;
      }),
      [],
      true,
      WORKSPACE.uid,
    );
    expect(result.foreign).to.have.length(1);
    expect(result.foreign[0]?.owner).to.equal("SecureWorkspace/team-a (uid old-uid)");
  });

  it("never prunes a labelled object the workspace did not create", () => {
    const forged: ObservedObject = {
      kind: "NetworkPolicy",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "allow-all", namespace: "team-a-dev", labels: MANAGED_LABELS, uid: "forged" },
    };
    const own: ObservedObject = {
      ...forged,
      metadata: {
        ...forged.metadata,
        name: "sws-old",
        uid: "own",
        ownerReferences: [{ uid: WORKSPACE.uid, controller: true }],
      },
    };
    expect(
      plan(DESIRED, lookup(ours), [forged, own], true, WORKSPACE.uid).prune.map((p) => p.name),
    ).to.deep.equal(["sws-old"]);
  });

  it("re-creates a RoleBinding whose roleRef differs (it cannot change in place)", () => {
    const desired = desiredStateOf(
      WORKSPACE,
      applyDefaults({
        namespaces: [{ name: "team-a-dev" }],
        rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "auditors" }] }] },
      }),
    );
    const rb = desired.find((d) => d.kind === "RoleBinding");
    if (!rb) throw new Error("no RoleBinding rendered");
    const held = asServerHolds(rb, "rb-uid");
    held["roleRef"] = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" };
    held.metadata = { ...held.metadata, ownerReferences: [{ uid: WORKSPACE.uid, controller: true }] };
    const result = plan([rb], () => held, [], true, WORKSPACE.uid);
    expect(result.apply).to.have.length(1);
    expect(result.apply[0]?.recreateUid).to.equal("rb-uid");
  });
});
