/** Pod Security Admission labels (src/baseline/podsecurity.ts). */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { PodSecuritySpec } from "../../../src/api/types.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import { podSecurityLabels } from "../../../src/baseline/podsecurity.js";

const labelsFor = (podSecurity?: PodSecuritySpec): Record<string, string> =>
  podSecurityLabels(
    applyDefaults({ namespaces: [{ name: "team-a-dev" }], ...(podSecurity ? { podSecurity } : {}) }),
  );

describe("baseline: Pod Security labels", () => {
  it("a default spec enforces, audits and warns at restricted, latest version", () => {
    expect(labelsFor()).to.deep.equal({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
  });

  it("audit and warn follow the enforce level and version when not set", () => {
    expect(labelsFor({ enforce: "baseline", enforceVersion: "v1.30" })).to.deep.equal({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "v1.30",
      "pod-security.kubernetes.io/audit": "baseline",
      "pod-security.kubernetes.io/audit-version": "v1.30",
      "pod-security.kubernetes.io/warn": "baseline",
      "pod-security.kubernetes.io/warn-version": "v1.30",
    });
  });

  it("enforces baseline while auditing and warning at restricted, as the audit-mode example asks", () => {
    expect(labelsFor({ enforce: "baseline", audit: "restricted", warn: "restricted" })).to.deep.equal({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
  });

  it("keeps each level's own version when given", () => {
    expect(
      labelsFor({
        enforce: "privileged",
        enforceVersion: "v1.29",
        audit: "baseline",
        auditVersion: "v1.30",
        warn: "restricted",
        warnVersion: "latest",
      }),
    ).to.deep.equal({
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/enforce-version": "v1.29",
      "pod-security.kubernetes.io/audit": "baseline",
      "pod-security.kubernetes.io/audit-version": "v1.30",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
  });

  it("puts the same six labels on every owned namespace", () => {
    const spec = applyDefaults({
      namespaces: [{ name: "team-a-dev" }, { name: "team-a-prod" }],
      podSecurity: { enforce: "baseline" },
    });
    const namespaces = desiredStateOf({ name: "team-a", uid: "u" }, spec).filter(
      (o) => o.kind === "Namespace",
    );
    expect(namespaces).to.have.length(2);
    for (const ns of namespaces)
      expect(ns.metadata.labels, ns.metadata.name).to.include(podSecurityLabels(spec));
  });
});
