/** Which namespaces a workspace may hold, and the adoption record (src/controller/holdings.ts). */
import { expect } from "chai";
import fc from "fast-check";
import {
  ADOPT_LABEL,
  ADOPTED_FROM_ANNOTATION,
  CREATED_BY_ANNOTATION,
  OWNER_UID_ANNOTATION,
  WORKSPACE_LABEL,
} from "../../../src/api/constants.js";
import {
  adoptionRecord,
  createdNamespace,
  decodeAdoptionRecord,
  encodeAdoptionRecord,
  holdingOf,
  ownsNamespace,
  type HoldingContext,
  type NamespaceView,
} from "../../../src/controller/holdings.js";

const UID = "11111111-1111-4111-8111-111111111111";
const OTHER_UID = "22222222-2222-4222-8222-222222222222";

const ctx = (over: Partial<HoldingContext> = {}): HoldingContext => ({
  workspace: "team-a",
  uid: UID,
  audit: false,
  operatorNamespace: "secure-workspace-system",
  isProtected: (name) => name.endsWith("-system") || name.startsWith("kube-"),
  workspaceUid: (name) => (name === "team-b" ? OTHER_UID : name === "team-a" ? UID : undefined),
  ...over,
});

const ns = (
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): NamespaceView => ({
  metadata: { name, uid: `uid-${name}`, resourceVersion: "7", labels, annotations },
});

describe("holdingOf", () => {
  it("creates a namespace that does not exist", () => {
    expect(holdingOf("team-a-dev", undefined, ctx())).to.deep.equal({ kind: "create", name: "team-a-dev" });
  });

  it("holds a namespace whose owner-uid annotation is the workspace's uid", () => {
    expect(
      holdingOf("team-a-dev", ns("team-a-dev", {}, { [OWNER_UID_ANNOTATION]: UID }), ctx()).kind,
    ).to.equal("owned");
  });

  it("does not hold a namespace that only carries the workspace label and created-by mark (forgeable)", () => {
    const forged = ns("ghost", { [WORKSPACE_LABEL]: "team-a" }, { [CREATED_BY_ANNOTATION]: "team-a" });
    const h = holdingOf("ghost", forged, ctx());
    expect(h.kind).to.equal("conflict");
    expect(h.kind === "conflict" && h.conflict.reason).to.equal("NotOptedIn");
  });

  it("reports an existing namespace without the opt-in label, naming the command that opts it in", () => {
    const h = holdingOf(
      "argocd",
      ns("argocd", { "pod-security.kubernetes.io/enforce": "restricted" }),
      ctx(),
    );
    expect(h.kind === "conflict" && h.conflict).to.deep.include({
      reason: "NotOptedIn",
      namespace: "argocd",
    });
    expect(h.kind === "conflict" && h.conflict.message).to.contain(
      `kubectl label namespace argocd ${ADOPT_LABEL}=team-a`,
    );
  });

  it("adopts an existing namespace opted in for this workspace, and not one opted in for another", () => {
    expect(holdingOf("legacy", ns("legacy", { [ADOPT_LABEL]: "team-a" }), ctx()).kind).to.equal("adopt");
    const h = holdingOf("legacy", ns("legacy", { [ADOPT_LABEL]: "team-b" }), ctx());
    expect(h.kind === "conflict" && h.conflict.message).to.contain("opted in for SecureWorkspace team-b");
  });

  it("reports a namespace owned by another existing workspace, even opted in", () => {
    const theirs = ns(
      "shared",
      { [WORKSPACE_LABEL]: "team-b", [ADOPT_LABEL]: "team-a" },
      { [OWNER_UID_ANNOTATION]: OTHER_UID },
    );
    const h = holdingOf("shared", theirs, ctx());
    expect(h.kind === "conflict" && h.conflict.reason).to.equal("OwnedByAnotherWorkspace");
  });

  it("never creates nor adopts system and protected namespaces", () => {
    for (const name of ["kube-system", "default", "secure-workspace-system"])
      expect(holdingOf(name, undefined, ctx()).kind === "conflict").to.equal(true);
    const h = holdingOf("monitoring-system", ns("monitoring-system", { [ADOPT_LABEL]: "team-a" }), ctx());
    expect(h.kind === "conflict" && h.conflict.reason).to.equal("ProtectedNamespace");
  });

  it("in Audit mode reads an existing namespace without an opt-in", () => {
    expect(holdingOf("legacy", ns("legacy"), ctx({ audit: true })).kind).to.equal("read");
  });

  it("waits for a namespace being deleted", () => {
    const dying: NamespaceView = { metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z" } };
    expect(holdingOf("x", dying, ctx()).kind).to.equal("terminating");
  });

  it("holds a namespace only with the exact uid (any other owner-uid is not ownership)", () => {
    fc.assert(
      fc.property(fc.uuid(), (uid) => {
        const view = ns("n", {}, { [OWNER_UID_ANNOTATION]: uid });
        expect(ownsNamespace(view, UID)).to.equal(uid === UID);
        expect(ownsNamespace(view, "")).to.equal(false);
      }),
    );
  });
});

describe("createdNamespace", () => {
  it("is true only for a namespace this workspace created, owns, and never adopted", () => {
    const created = ns("a", {}, { [CREATED_BY_ANNOTATION]: "team-a", [OWNER_UID_ANNOTATION]: UID });
    expect(createdNamespace(created, "team-a", UID)).to.equal(true);
    expect(createdNamespace(created, "team-a", OTHER_UID)).to.equal(false);
    const adopted = ns(
      "a",
      {},
      {
        [CREATED_BY_ANNOTATION]: "team-a",
        [OWNER_UID_ANNOTATION]: UID,
        [ADOPTED_FROM_ANNOTATION]: "{}",
      },
    );
    expect(createdNamespace(adopted, "team-a", UID)).to.equal(false);
  });
});

describe("the adoption record", () => {
  it("records what the baseline overwrites and nothing of the operator's own keys", () => {
    const current = ns(
      "legacy",
      {
        "pod-security.kubernetes.io/enforce": "restricted",
        "istio-injection": "enabled",
        app: "legacy",
        cost: "1",
        [ADOPT_LABEL]: "team-a",
      },
      { "linkerd.io/inject": "disabled", note: "keep" },
    );
    const record = adoptionRecord(current, {
      labels: { "pod-security.kubernetes.io/enforce": "baseline", cost: "42", [WORKSPACE_LABEL]: "team-a" },
    });
    expect(record).to.deep.equal({
      labels: { cost: "1", "istio-injection": "enabled", "pod-security.kubernetes.io/enforce": "restricted" },
      annotations: { "linkerd.io/inject": "disabled" },
    });
  });

  it("round-trips through the annotation, and an unreadable annotation restores nothing", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.string()),
        fc.dictionary(fc.string(), fc.string()),
        (labels, annotations) => {
          const encoded = encodeAdoptionRecord({ labels, annotations });
          const decoded = decodeAdoptionRecord(ns("n", {}, { [ADOPTED_FROM_ANNOTATION]: encoded }));
          expect(decoded).to.deep.equal({ labels: { ...labels }, annotations: { ...annotations } });
        },
      ),
    );
    expect(decodeAdoptionRecord(ns("n", {}, { [ADOPTED_FROM_ANNOTATION]: "{not json" }))).to.equal(undefined);
    expect(decodeAdoptionRecord(ns("n"))).to.equal(undefined);
  });
});
