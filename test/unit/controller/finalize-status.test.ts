import { expect } from "chai";
import type { SecureWorkspace } from "../../../src/api/types.js";
import { finalizeFailedStatus } from "../../../src/controller/status.js";

const NOW = "2026-12-02T13:00:00Z";
const EARLIER = "2026-12-01T10:00:00Z";

function ws(status?: SecureWorkspace["status"]): SecureWorkspace {
  return {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: { name: "team-a", generation: 3 },
    spec: { namespaces: [{ name: "team-a" }] },
    ...(status ? { status } : {}),
  };
}

describe("finalizeFailedStatus", () => {
  it("turns Ready False with reason FinalizeFailed and keeps every other condition", () => {
    const status = finalizeFailedStatus(
      ws({
        conditions: [
          { type: "Ready", status: "True", reason: "Enforced", message: "ok", lastTransitionTime: EARLIER },
          {
            type: "NetworkPolicyEnforced",
            status: "True",
            reason: "Enforced",
            message: "",
            lastTransitionTime: EARLIER,
          },
        ],
      }),
      'deleting: namespaces "x" is forbidden',
      NOW,
    );

    expect(status?.conditions?.map((c) => [c.type, c.status, c.reason])).to.deep.equal([
      ["Ready", "False", "FinalizeFailed"],
      ["NetworkPolicyEnforced", "True", "Enforced"],
    ]);
    expect(status?.conditions?.[0]?.lastTransitionTime).to.equal(NOW);
    expect(status?.conditions?.[0]?.observedGeneration).to.equal(3);
  });

  it("writes nothing when Ready already says the same failure", () => {
    const failed = finalizeFailedStatus(ws(), "deleting: refused", NOW);

    expect(finalizeFailedStatus(ws(failed), "deleting: refused", NOW)).to.equal(undefined);
  });

  it("a different failure updates the message but keeps the time Ready turned False", () => {
    const first = finalizeFailedStatus(ws(), "deleting: refused", EARLIER);
    const second = finalizeFailedStatus(ws(first), "deleting: timed out", NOW);

    expect(second?.conditions?.[0]?.message).to.equal("deleting: timed out");
    expect(second?.conditions?.[0]?.lastTransitionTime).to.equal(EARLIER);
  });
});
