/** The start-up identity check's verdict (src/controller/identity.ts), from plain policy objects. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../../../src/api/schema.js";
import {
  CONFINEMENT_POLICY,
  GUARDRAILS_POLICY,
  exemptedUsers,
  judgeIdentity,
  policyNames,
  TAMPER_POLICY,
  type AdmissionPolicy,
  type PolicyLookup,
} from "../../../src/controller/identity.js";

const OPERATOR = "system:serviceaccount:secure-workspace-system:secure-workspace-operator";
const ADMIN = "kubernetes-admin";

/** A ValidatingAdmissionPolicy exactly as config/ installs it. */
function shippedPolicy(file: string, name: string): AdmissionPolicy {
  const text = readFileSync(path.join(repoRoot(), "config", file), "utf8");
  const docs = parseAllDocuments(text).map(
    (d) => d.toJS() as { kind?: string; metadata?: { name?: string } },
  );
  const policy = docs.find((d) => d.kind === "ValidatingAdmissionPolicy" && d.metadata?.name === name);
  if (!policy) throw new Error(`config/${file} has no ${name}`);
  return policy;
}
const shippedTamperPolicy = (): AdmissionPolicy => shippedPolicy("admission-policy.yaml", TAMPER_POLICY);
const shippedConfinementPolicy = (): AdmissionPolicy =>
  shippedPolicy("operator-confinement-policy.yaml", CONFINEMENT_POLICY);

/** A tamper policy exempting `user` the way config/ does. */
function tamperExempting(user: string): AdmissionPolicy {
  return {
    metadata: { name: TAMPER_POLICY },
    spec: {
      matchConditions: [
        { name: "managed-by-secure-workspace-operator", expression: "has(object.metadata.labels)" },
        { name: "exempt-operator", expression: `request.userInfo.username != '${user}'` },
        {
          name: "exempt-garbage-collector",
          expression:
            "request.userInfo.username != 'system:serviceaccount:kube-system:generic-garbage-collector'",
        },
      ],
    },
  };
}

/** A confinement policy that applies to `user` only. */
function confining(user: string): AdmissionPolicy {
  return {
    metadata: { name: CONFINEMENT_POLICY },
    spec: {
      matchConditions: [{ name: "operator-only", expression: `request.userInfo.username == "${user}"` }],
    },
  };
}

const found = (policy: AdmissionPolicy): PolicyLookup => ({ state: "found", policy });
const absent: PolicyLookup = { state: "absent" };

describe("judgeIdentity", () => {
  it("passes the operator's ServiceAccount against the policies config/ ships", () => {
    const verdict = judgeIdentity(OPERATOR, found(shippedTamperPolicy()), found(shippedConfinementPolicy()));
    expect(verdict).to.deep.equal({
      warnings: [],
      policies: { [TAMPER_POLICY]: "exempts", [CONFINEMENT_POLICY]: "names" },
    });
  });

  it("warns that an operator in another namespace is not confined by the confinement policy config/ ships", () => {
    const other = "system:serviceaccount:ops:secure-workspace-operator";
    const verdict = judgeIdentity(other, absent, found(shippedConfinementPolicy()));
    expect(verdict.error).to.be.undefined;
    expect(verdict.policies[CONFINEMENT_POLICY]).to.equal("misses");
    expect(verdict.warnings).to.have.length(1);
  });

  it("fails an admin kubeconfig against the policy config/ ships, naming both identities and the ways out", () => {
    const verdict = judgeIdentity(ADMIN, found(shippedTamperPolicy()), absent);
    expect(verdict.error).to.be.a("string");
    expect(verdict.error).to.match(
      new RegExp(
        `^the installed ValidatingAdmissionPolicy ${TAMPER_POLICY} exempts ${OPERATOR}, but this operator runs as ${ADMIN}: every update of a managed object would be refused`,
      ),
    );
    expect(verdict.error).to.contain("overlay recipe in config/kustomization.yaml");
    expect(verdict.error).to.contain("the ServiceAccount secure-workspace-system/secure-workspace-operator");
    expect(verdict.error).to.contain("make run");
    expect(verdict.policies[TAMPER_POLICY]).to.equal("refuses");
  });

  it("runs without policies, and says nothing about absent ones", () => {
    expect(judgeIdentity(ADMIN, absent, absent)).to.deep.equal({
      warnings: [],
      policies: { [TAMPER_POLICY]: "absent", [CONFINEMENT_POLICY]: "absent" },
    });
  });

  it("fails when the installed guardrails policy does not exempt the operator, runs when it does", () => {
    const guardrails = shippedPolicy("guardrails-policy.yaml", GUARDRAILS_POLICY);
    expect(judgeIdentity(OPERATOR, absent, absent, found(guardrails)).error).to.equal(undefined);
    expect(judgeIdentity(ADMIN, absent, absent, found(guardrails)).error).to.contain(
      `${GUARDRAILS_POLICY} does not exempt ${ADMIN}`,
    );
  });

  it("runs with a warning when a policy is not readable (forbidden or failed), never fails", () => {
    const verdict = judgeIdentity(
      ADMIN,
      { state: "forbidden", message: "validatingadmissionpolicies is forbidden" },
      { state: "failed", message: "connection reset" },
    );
    expect(verdict.error).to.be.undefined;
    expect(verdict.policies).to.deep.equal({ [TAMPER_POLICY]: "forbidden", [CONFINEMENT_POLICY]: "failed" });
    expect(verdict.warnings).to.have.length(2);
    expect(verdict.warnings[0]).to.contain(
      `cannot read ValidatingAdmissionPolicy ${TAMPER_POLICY} (forbidden)`,
    );
    expect(verdict.warnings[1]).to.contain(`could not read ValidatingAdmissionPolicy ${CONFINEMENT_POLICY}`);
    expect(verdict.warnings[1]).to.contain("connection reset");
  });

  it("warns, without failing, when the confinement policy does not name the operator", () => {
    const verdict = judgeIdentity(
      OPERATOR,
      found(tamperExempting(OPERATOR)),
      found(confining("someone-else")),
    );
    expect(verdict.error).to.be.undefined;
    expect(verdict.policies[CONFINEMENT_POLICY]).to.equal("misses");
    expect(verdict.warnings).to.deep.equal([
      `the installed ValidatingAdmissionPolicy ${CONFINEMENT_POLICY} does not name ${OPERATOR}: ` +
        "this operator is not confined by it (install with the overlay recipe in config/kustomization.yaml " +
        `(an overlay with namespace: and the operator-identity transformers) so it names ${OPERATOR})`,
    ]);
    expect(judgeIdentity(OPERATOR, absent, found(confining(OPERATOR)))).to.deep.equal({
      warnings: [],
      policies: { [TAMPER_POLICY]: "absent", [CONFINEMENT_POLICY]: "names" },
    });
  });

  it("needs the quoted username, not a prefix or a longer name that contains it", () => {
    const sa = "system:serviceaccount:ops:secure-workspace-operator";
    expect(judgeIdentity(`${sa}-2`, found(tamperExempting(sa)), absent).error).to.be.a("string");
    expect(
      judgeIdentity("system:serviceaccount:ops:secure", found(tamperExempting(sa)), absent).error,
    ).to.be.a("string");
    expect(judgeIdentity(sa, found(tamperExempting(sa)), absent).error).to.be.undefined;
  });

  it("fails exactly when an installed tamper policy exempts another name (any usernames)", () => {
    const user = fc.stringMatching(/^[a-z][a-z0-9:.@-]{0,40}$/);
    fc.assert(
      fc.property(user, user, (exempt, runAs) => {
        const verdict = judgeIdentity(runAs, found(tamperExempting(exempt)), absent);
        if (exempt === runAs) expect(verdict.error).to.be.undefined;
        else {
          expect(verdict.error).to.contain(`exempts ${exempt}, `);
          expect(verdict.error).to.contain(`runs as ${runAs}:`);
        }
      }),
    );
  });

  it("lists every exempted name when no condition is the operator's own exemption", () => {
    const policy: AdmissionPolicy = {
      spec: {
        matchConditions: [
          { name: "a", expression: "request.userInfo.username != 'alice'" },
          { name: "b", expression: 'request.userInfo.username != "bob" && true' },
        ],
      },
    };
    expect(judgeIdentity("carol", found(policy), absent).error).to.contain(
      "exempts alice, bob, but this operator runs as carol",
    );
  });

  it("says so when a tamper policy exempts no identity by name", () => {
    const policy: AdmissionPolicy = { metadata: { name: TAMPER_POLICY }, spec: { matchConditions: [] } };
    expect(judgeIdentity(OPERATOR, found(policy), absent).error).to.contain("exempts no identity by name");
    expect(judgeIdentity(OPERATOR, found({}), absent).error).to.contain("the identity the policy exempts");
  });
});

describe("exemptedUsers and policyNames", () => {
  it("lists the shipped policy's exemptions, the operator's first", () => {
    const users = exemptedUsers(shippedTamperPolicy());
    expect(users[0]).to.equal(OPERATOR);
    expect(users).to.include("system:serviceaccount:kube-system:generic-garbage-collector");
    expect(new Set(users).size).to.equal(users.length);
  });

  it("finds a username quoted either way in match conditions, variables or validations", () => {
    const inVariable: AdmissionPolicy = {
      spec: { variables: [{ name: "isOperator", expression: `request.userInfo.username == '${OPERATOR}'` }] },
    };
    const inValidation: AdmissionPolicy = {
      spec: { validations: [{ expression: `request.userInfo.username == "${OPERATOR}" || false` }] },
    };
    expect(policyNames(inVariable, OPERATOR)).to.be.true;
    expect(policyNames(inValidation, OPERATOR)).to.be.true;
    expect(policyNames(inValidation, "secure-workspace-operator")).to.be.false;
    expect(policyNames({}, OPERATOR)).to.be.false;
  });
});
