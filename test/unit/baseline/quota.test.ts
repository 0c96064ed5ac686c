/** ResourceQuota and LimitRange (src/baseline/quota.ts): rendered only when the spec asks. */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import { limitRange, resourceQuota } from "../../../src/baseline/quota.js";

const WORKSPACE = { name: "team-quota", uid: "uid-q" };

function managedMeta(name: string, namespace = "team-quota-dev"): Record<string, unknown> {
  return {
    name,
    namespace,
    labels: {
      "app.kubernetes.io/managed-by": "secure-workspace-operator",
      "secureworkspace.io/workspace": "team-quota",
    },
    ownerReferences: [
      {
        apiVersion: "secureworkspace.io/v1alpha1",
        kind: "SecureWorkspace",
        name: "team-quota",
        uid: "uid-q",
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

function quotaObjects(extra: Omit<SecureWorkspaceSpec, "namespaces">): DesiredObject[] {
  const ctx = {
    workspace: WORKSPACE,
    spec: applyDefaults({ namespaces: [{ name: "team-quota-dev" }], ...extra }),
  };
  return [...resourceQuota(ctx, "team-quota-dev"), ...limitRange(ctx, "team-quota-dev")];
}

describe("baseline: ResourceQuota and LimitRange", () => {
  it("a spec without resourceQuota or limitRange gets neither object", () => {
    expect(quotaObjects({})).to.deep.equal([]);
    const kinds = desiredStateOf(WORKSPACE, applyDefaults({ namespaces: [{ name: "team-quota-dev" }] })).map(
      (o) => o.kind,
    );
    expect(kinds).to.not.include("ResourceQuota");
    expect(kinds).to.not.include("LimitRange");
  });

  it("resourceQuota.hard becomes sws-quota with the same keys and quantities", () => {
    const hard = {
      "requests.cpu": "4",
      "requests.memory": "8Gi",
      "limits.cpu": "8",
      "limits.memory": "16Gi",
      pods: "50",
      "services.loadbalancers": "0",
      "services.nodeports": "0",
    };
    expect(quotaObjects({ resourceQuota: { hard } })).to.deep.equal([
      {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: managedMeta("sws-quota"),
        spec: {
          hard: {
            "requests.cpu": "4",
            "requests.memory": "8Gi",
            "limits.cpu": "8",
            "limits.memory": "16Gi",
            pods: "50",
            "services.loadbalancers": "0",
            "services.nodeports": "0",
          },
        },
      },
    ]);
  });

  it("an empty hard map asks for no quota", () => {
    expect(quotaObjects({ resourceQuota: { hard: {} } })).to.deep.equal([]);
  });

  it("limitRange becomes sws-limits with one Container limit", () => {
    expect(
      quotaObjects({
        limitRange: {
          default: { cpu: "500m", memory: "512Mi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          max: { cpu: "2", memory: "2Gi" },
          min: { cpu: "10m", memory: "16Mi" },
        },
      }),
    ).to.deep.equal([
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: managedMeta("sws-limits"),
        spec: {
          limits: [
            {
              type: "Container",
              default: { cpu: "500m", memory: "512Mi" },
              defaultRequest: { cpu: "100m", memory: "128Mi" },
              max: { cpu: "2", memory: "2Gi" },
              min: { cpu: "10m", memory: "16Mi" },
            },
          ],
        },
      },
    ]);
  });

  it("a limit holds only the fields the spec sets; empty maps are left out", () => {
    expect(quotaObjects({ limitRange: { max: { memory: "1Gi" }, min: {} } })).to.deep.equal([
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: managedMeta("sws-limits"),
        spec: { limits: [{ type: "Container", max: { memory: "1Gi" } }] },
      },
    ]);
  });

  it("a limitRange with nothing in it renders no LimitRange", () => {
    expect(quotaObjects({ limitRange: {} })).to.deep.equal([]);
    expect(quotaObjects({ limitRange: { default: {}, max: {} } })).to.deep.equal([]);
  });

  it("quota and limits come together when both are asked for, quota first", () => {
    const objs = quotaObjects({
      resourceQuota: { hard: { pods: "10" } },
      limitRange: { default: { cpu: "1" } },
    });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal([
      "ResourceQuota/sws-quota",
      "LimitRange/sws-limits",
    ]);
  });

  it("the rendered maps are copies: editing an object leaves the spec it came from alone", () => {
    const spec = applyDefaults({
      namespaces: [{ name: "team-quota-dev" }],
      resourceQuota: { hard: { pods: "10" } },
      limitRange: { max: { cpu: "2" } },
    });
    const ctx = { workspace: WORKSPACE, spec };
    const [quota] = resourceQuota(ctx, "team-quota-dev");
    const [limits] = limitRange(ctx, "team-quota-dev");
    (quota?.["spec"] as { hard: Record<string, string> }).hard["pods"] = "999";
    (limits?.["spec"] as { limits: Array<{ max: Record<string, string> }> }).limits[0].max["cpu"] = "999";
    expect(spec.resourceQuota).to.deep.equal({ hard: { pods: "10" } });
    expect(spec.limitRange).to.deep.equal({ max: { cpu: "2" } });
  });
});
