/**
 * Cases where the offline checks (`sws validate`, the reconciler's re-check) once disagreed with
 * the API server: each is refused by the CRD's CEL rules, so it must be refused offline too.
 */
import { expect } from "chai";
import { loadConfig } from "../../../src/config.js";
import { parseQuantity, sameQuantity } from "../../../src/api/quantity.js";
import { cidrProblem, validateSpec } from "../../../src/api/validation.js";
import { contains } from "../../../src/controller/diff.js";

const paths = (spec: Parameters<typeof validateSpec>[0]): string[] => validateSpec(spec).map((p) => p.path);

describe("offline checks agree with admission", () => {
  it("reads the exa-binary suffix Ei as 2^60, not as a decimal exponent", () => {
    expect(parseQuantity("1Ei")).to.equal(2 ** 60);
    expect(sameQuantity("1024Pi", "1Ei")).to.be.true;
    expect(parseQuantity("1E")).to.equal(1e18);
    expect(parseQuantity("1E3")).to.equal(1000);
  });

  it("refuses an IPv6 CIDR with a zone id", () => {
    expect(cidrProblem("fe80::1%eth0/64")).to.be.a("string");
    expect(cidrProblem("fe80::/64")).to.equal(undefined);
  });

  it("refuses an ipBlock exception outside its CIDR", () => {
    const allow = [{ ipBlock: { cidr: "10.20.0.0/16", except: ["192.168.0.0/24", "10.20.1.0/24"] } }];
    expect(paths({ namespaces: [{ name: "a" }], networkPolicy: { allowEgressTo: allow } })).to.deep.equal([
      "spec.networkPolicy.allowEgressTo[0].ipBlock.except",
    ]);
  });

  it("refuses a LimitRange whose default exceeds its max", () => {
    expect(
      paths({ namespaces: [{ name: "a" }], limitRange: { default: { cpu: "2" }, max: { cpu: "1" } } }),
    ).to.deep.equal(["spec.limitRange.default"]);
  });

  it("refuses an In selector expression without values and an Exists one with values", () => {
    const spec = {
      namespaces: [{ name: "a" }],
      networkPolicy: {
        allowIngressFrom: [
          {
            podSelector: {
              matchExpressions: [
                { key: "app", operator: "In" as const },
                { key: "tier", operator: "Exists" as const, values: ["x"] },
              ],
            },
          },
        ],
      },
    };
    expect(paths(spec)).to.deep.equal([
      "spec.networkPolicy.allowIngressFrom[0].podSelector.matchExpressions[0].values",
      "spec.networkPolicy.allowIngressFrom[0].podSelector.matchExpressions[1].values",
    ]);
  });

  it("compares quantities by value only in quantity fields, never in selectors", () => {
    expect(contains({ spec: { hard: { cpu: "1" } } }, { spec: { hard: { cpu: "1000m" } } })).to.be.true;
    expect(
      contains(
        { spec: { podSelector: { matchLabels: { v: "1" } } } },
        { spec: { podSelector: { matchLabels: { v: "1000m" } } } },
      ),
    ).to.be.false;
  });

  it("refuses loose integers and a value flag without its value", () => {
    expect(() => loadConfig(["--workers", "0x10"], {})).to.throw(/--workers/);
    expect(() => loadConfig([], { SWS_HEALTH_PORT: "" })).to.throw(/--health-port/);
    expect(() => loadConfig(["--kubeconfig", "--in-cluster"], {})).to.throw(/--kubeconfig needs a value/);
    expect(loadConfig(["--leader-elect"], {})).to.include({ leaderElect: true });
  });
});
