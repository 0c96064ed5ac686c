/** RoleBindings to the built-in ClusterRoles (src/baseline/rbac.ts). */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { BindableRole, RbacSpec } from "../../../src/api/types.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import { BINDABLE_ROLES, roleBindings } from "../../../src/baseline/rbac.js";

const WORKSPACE = { name: "team-a", uid: "uid-team-a" };

function managedMeta(name: string, namespace = "team-a-dev"): Record<string, unknown> {
  return {
    name,
    namespace,
    labels: {
      "app.kubernetes.io/managed-by": "secure-workspace-operator",
      "secureworkspace.io/workspace": "team-a",
    },
    ownerReferences: [
      {
        apiVersion: "secureworkspace.io/v1alpha1",
        kind: "SecureWorkspace",
        name: "team-a",
        uid: "uid-team-a",
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

const bindingsFor = (rbac?: RbacSpec): DesiredObject[] =>
  roleBindings(
    {
      workspace: WORKSPACE,
      spec: applyDefaults({ namespaces: [{ name: "team-a-dev" }], ...(rbac ? { rbac } : {}) }),
    },
    "team-a-dev",
  );

describe("baseline: RoleBindings", () => {
  it("RoleBindings are named sws-<role>-<index>, ServiceAccount subjects keep their namespace, User/Group get apiGroup rbac.authorization.k8s.io", () => {
    expect(
      bindingsFor({
        bindings: [
          {
            role: "edit",
            subjects: [
              { kind: "Group", name: "team-a" },
              { kind: "ServiceAccount", name: "deployer", namespace: "ci" },
            ],
          },
          { role: "view", subjects: [{ kind: "User", name: "jane@example.com" }] },
        ],
      }),
    ).to.deep.equal([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: managedMeta("sws-edit-0"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [
          { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "team-a" },
          { kind: "ServiceAccount", name: "deployer", namespace: "ci" },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: managedMeta("sws-view-1"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane@example.com" }],
      },
    ]);
  });

  it("numbers bindings by their position in spec.rbac.bindings, so the same role twice gets two names", () => {
    const objs = bindingsFor({
      bindings: [
        { role: "view", subjects: [{ kind: "Group", name: "auditors" }] },
        { role: "admin", subjects: [{ kind: "Group", name: "leads" }] },
        { role: "view", subjects: [{ kind: "Group", name: "support" }] },
      ],
    });
    expect(objs.map((o) => o.metadata.name)).to.deep.equal(["sws-view-0", "sws-admin-1", "sws-view-2"]);
  });

  it("no bindings in the spec means no RoleBindings", () => {
    expect(bindingsFor()).to.deep.equal([]);
    expect(bindingsFor({ bindings: [] })).to.deep.equal([]);
  });

  it("never binds a ClusterRole outside admin, edit and view, even for a spec that skipped admission", () => {
    const objs = bindingsFor({
      bindings: [
        { role: "cluster-admin" as BindableRole, subjects: [{ kind: "Group", name: "intruders" }] },
        { role: "view", subjects: [{ kind: "Group", name: "auditors" }] },
      ],
    });
    expect(objs.map((o) => o.metadata.name)).to.deep.equal(["sws-view-1"]);
    expect(BINDABLE_ROLES).to.deep.equal(["admin", "edit", "view"]);
  });

  it("puts the same bindings into every owned namespace", () => {
    const spec = applyDefaults({
      namespaces: [{ name: "team-a-dev" }, { name: "team-a-prod" }],
      rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team-a" }] }] },
    });
    const objs = desiredStateOf(WORKSPACE, spec).filter((o) => o.kind === "RoleBinding");
    expect(objs).to.deep.equal([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: managedMeta("sws-edit-0", "team-a-dev"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "team-a" }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: managedMeta("sws-edit-0", "team-a-prod"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "team-a" }],
      },
    ]);
  });
});
