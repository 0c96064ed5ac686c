/** Properties of desiredState() over generated valid specs (fast-check, >= 1,000 runs each). */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspace } from "../../../src/api/types.js";
import { desiredState } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import { validWorkspace } from "../../support/arbitraries.js";

const RUNS = { numRuns: 1000 };
const owned = (ws: SecureWorkspace): Set<string> => new Set(ws.spec.namespaces.map((n) => n.name));
const nsOf = (o: DesiredObject): string =>
  o.kind === "Namespace" ? o.metadata.name : (o.metadata.namespace ?? "");
const policies = (objs: DesiredObject[], name: string): DesiredObject[] =>
  objs.filter((o) => o.kind === "NetworkPolicy" && o.metadata.name === name);
type PolicySpec = {
  policyTypes: string[];
  ingress?: Array<{ from: unknown[] }>;
  egress?: Array<{ to: unknown[]; ports?: unknown[] }>;
};
const specOf = (o: DesiredObject): PolicySpec => o["spec"] as PolicySpec;

describe("desiredState properties", () => {
  it("never produces an object outside the owned namespaces", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        const names = owned(ws);
        for (const obj of desiredState(ws))
          expect(names.has(nsOf(obj)), `${obj.kind}/${obj.metadata.name} in ${nsOf(obj)}`).to.be.true;
      }),
      RUNS,
    );
  });

  it("labels every object as managed by the operator for this workspace, and owns every namespaced one", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        for (const obj of desiredState(ws)) {
          expect(obj.metadata.labels).to.include({
            "app.kubernetes.io/managed-by": "secure-workspace-operator",
            "secureworkspace.io/workspace": ws.metadata.name,
          });
          if (obj.kind === "Namespace") {
            expect(obj.metadata.ownerReferences, "a namespace is never garbage-collected with its workspace")
              .to.be.undefined;
          } else {
            expect(obj.metadata.ownerReferences).to.deep.equal([
              {
                apiVersion: "secureworkspace.io/v1alpha1",
                kind: "SecureWorkspace",
                name: ws.metadata.name,
                uid: ws.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ]);
          }
        }
      }),
      RUNS,
    );
  });

  it("has a default deny in every owned namespace for each direction the spec denies", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        const denied = applyDefaults(ws.spec).networkPolicy.defaultDeny;
        const objs = desiredState(ws);
        for (const ns of owned(ws)) {
          const deny = policies(objs, "sws-default-deny").filter((o) => nsOf(o) === ns);
          if (denied.length === 0) {
            expect(deny).to.have.length(0);
            continue;
          }
          expect(deny).to.have.length(1);
          const spec = specOf(deny[0]);
          expect(spec.policyTypes).to.have.members(denied);
          expect(spec.ingress ?? []).to.be.empty;
          expect(spec.egress ?? []).to.be.empty;
        }
      }),
      RUNS,
    );
  });

  it("binds only the admin, edit and view ClusterRoles", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        for (const obj of desiredState(ws).filter((o) => o.kind.includes("Role"))) {
          expect(obj.kind).to.equal("RoleBinding");
          expect(obj["roleRef"]).to.deep.include({ kind: "ClusterRole" });
          expect(["admin", "edit", "view"]).to.include((obj["roleRef"] as { name: string }).name);
        }
      }),
      RUNS,
    );
  });

  it("allows no ingress or egress peer that the spec did not declare", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        const spec = applyDefaults(ws.spec);
        const declaredIngress = spec.networkPolicy.allowIngressFrom.map((a) =>
          JSON.stringify(a.ipBlock ?? a.namespaceSelector ?? a.podSelector),
        );
        const declaredEgress = spec.networkPolicy.allowEgressTo.map((a) =>
          JSON.stringify(a.ipBlock ?? a.namespaceSelector ?? a.podSelector),
        );
        for (const obj of desiredState(ws).filter((o) => o.kind === "NetworkPolicy")) {
          const ps = specOf(obj);
          // A policy never names a direction the spec leaves open: that would isolate it instead.
          for (const t of ps.policyTypes) expect(spec.networkPolicy.defaultDeny).to.include(t);
          for (const r of ps.ingress ?? [])
            for (const peer of r.from as Array<Record<string, unknown>>) {
              const isSameNamespace = JSON.stringify(peer) === '{"podSelector":{}}';
              if (isSameNamespace) expect(spec.networkPolicy.allowSameNamespace).to.be.true;
              else
                expect(declaredIngress).to.include(
                  JSON.stringify(peer["ipBlock"] ?? peer["namespaceSelector"] ?? peer["podSelector"]),
                );
            }
          if (obj.metadata.name === "sws-allow-egress")
            for (const r of ps.egress ?? [])
              for (const peer of r.to as Array<Record<string, unknown>>)
                expect(declaredEgress).to.include(
                  JSON.stringify(peer["ipBlock"] ?? peer["namespaceSelector"] ?? peer["podSelector"]),
                );
          if (obj.metadata.name === "sws-allow-mesh-control-plane") {
            expect(spec.serviceMesh.provider).to.not.equal("none");
            expect(JSON.stringify(ps.egress)).to.contain(
              `"kubernetes.io/metadata.name":"${spec.serviceMesh.controlPlaneNamespace}"`,
            );
          }
        }
      }),
      RUNS,
    );
  });

  it("allows DNS only to kube-dns in kube-system on port 53", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        for (const obj of policies(desiredState(ws), "sws-allow-dns")) {
          expect(specOf(obj).egress).to.deep.equal([
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ]);
          expect(specOf(obj).ingress).to.deep.equal([]);
        }
      }),
      RUNS,
    );
  });

  it("gives the same output for the same spec, with unique object names", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        const first = desiredState(ws);
        const copy = JSON.parse(JSON.stringify(ws)) as SecureWorkspace;
        expect(desiredState(copy)).to.deep.equal(first);
        const keys = first.map((o) => `${o.kind}/${nsOf(o)}/${o.metadata.name}`);
        expect(new Set(keys).size).to.equal(keys.length);
      }),
      RUNS,
    );
  });

  it("does not mutate its input", () => {
    fc.assert(
      fc.property(validWorkspace, (ws) => {
        const before = JSON.stringify(ws);
        desiredState(ws);
        expect(JSON.stringify(ws)).to.equal(before);
      }),
      RUNS,
    );
  });
});
