/**
 * posture(): what objects the operator does not own open beyond a workspace's spec
 * (src/baseline/posture.ts). Examples; the properties (with a brute-force oracle) are in
 * posture.properties.test.ts.
 */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import {
  posture,
  type Finding,
  type ForeignNetworkPolicy,
  type ForeignPeerAuthentication,
  type ForeignRoleBinding,
  type NetworkPolicySpecInput,
  type PostureInput,
} from "../../../src/baseline/posture.js";

const WS = "team-a";
const DEV = "team-a-dev";
const PROD = "team-a-prod";

/** The cluster every example runs in: the workspace's two namespaces, another team's, the system ones. */
const CLUSTER: PostureInput["clusterNamespaces"] = [
  { name: DEV, labels: { "secureworkspace.io/workspace": WS, tier: "dev" } },
  { name: PROD, labels: { "secureworkspace.io/workspace": WS, tier: "prod" } },
  { name: "other-team", labels: { team: "other" } },
  { name: "monitoring", labels: { team: "observability" } },
  { name: "kube-system", labels: {} },
  { name: "istio-system", labels: {} },
];

interface Example {
  spec?: Omit<SecureWorkspaceSpec, "namespaces">;
  networkPolicies?: ForeignNetworkPolicy[];
  roleBindings?: ForeignRoleBinding[];
  peerAuthentications?: ForeignPeerAuthentication[];
  clusterNamespaces?: PostureInput["clusterNamespaces"];
}

function run(e: Example): Finding[] {
  return posture({
    workspace: WS,
    namespaces: [DEV, PROD],
    spec: applyDefaults({ namespaces: [{ name: DEV }, { name: PROD }], ...(e.spec ?? {}) }),
    clusterNamespaces: e.clusterNamespaces ?? CLUSTER,
    networkPolicies: e.networkPolicies ?? [],
    roleBindings: e.roleBindings ?? [],
    ...(e.peerAuthentications ? { peerAuthentications: e.peerAuthentications } : {}),
  });
}

const np = (spec: NetworkPolicySpecInput, name = "foreign", namespace = DEV): ForeignNetworkPolicy => ({
  namespace,
  name,
  spec: { podSelector: {}, ...spec },
});
const ingress = (rule: NonNullable<NetworkPolicySpecInput["ingress"]>[number]): ForeignNetworkPolicy =>
  np({ policyTypes: ["Ingress"], ingress: [rule] });
const egress = (rule: NonNullable<NetworkPolicySpecInput["egress"]>[number]): ForeignNetworkPolicy =>
  np({ policyTypes: ["Egress"], egress: [rule] });
const opens = (findings: Finding[]): string[] => findings.map((f) => f.opens);
const byName = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

describe("posture: foreign NetworkPolicies", () => {
  it("reports an allow-all ingress policy under default deny, naming the object", () => {
    expect(run({ networkPolicies: [np({ ingress: [{}] }, "allow-all")] })).to.deep.equal([
      {
        control: "networkPolicy",
        kind: "NetworkPolicy",
        namespace: DEV,
        name: "allow-all",
        opens: "ingress from any namespace and any address on any port",
      },
    ]);
  });

  it("reports an allow-all egress policy under default deny", () => {
    expect(opens(run({ networkPolicies: [egress({})] }))).to.deep.equal([
      "egress to any namespace and any address on any port",
    ]);
  });

  it("reports nothing for allow-all policies when the spec denies no direction (open anyway)", () => {
    const spec = { networkPolicy: { defaultDeny: [] } };
    expect(run({ spec, networkPolicies: [np({ ingress: [{}], egress: [{}] })] })).to.deep.equal([]);
  });

  it("reports only the direction the spec denies", () => {
    const spec = { networkPolicy: { defaultDeny: ["Egress" as const] } };
    expect(opens(run({ spec, networkPolicies: [np({ ingress: [{}], egress: [{}] })] }))).to.deep.equal([
      "egress to any namespace and any address on any port",
    ]);
  });

  it("ignores rules of a direction the policy's policyTypes leave out", () => {
    const policy = np({ policyTypes: ["Egress"], ingress: [{}], egress: [{ to: [{ podSelector: {} }] }] });
    expect(run({ networkPolicies: [policy] })).to.deep.equal([]);
  });

  it("reports nothing for podSelector-only peers (the same namespace), even without allowSameNamespace", () => {
    const spec = { networkPolicy: { allowSameNamespace: false } };
    const policy = np({
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }],
      egress: [{ to: [{ podSelector: {} }], ports: [{ port: 5432 }] }],
    });
    expect(run({ spec, networkPolicies: [policy] })).to.deep.equal([]);
  });

  it("reports nothing for peers pinned to a sibling namespace, by name or by the workspace label", () => {
    const policy = np({
      ingress: [
        { from: [{ namespaceSelector: byName(PROD), podSelector: { matchLabels: { app: "api" } } }] },
        { from: [{ namespaceSelector: { matchLabels: { "secureworkspace.io/workspace": WS } } }] },
        {
          from: [
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: "kubernetes.io/metadata.name", operator: "In", values: [DEV, PROD] },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(run({ networkPolicies: [policy] })).to.deep.equal([]);
  });

  it("names an undeclared namespace a pinned peer reaches, with the port", () => {
    const policy = ingress({ from: [{ namespaceSelector: byName("other-team") }], ports: [{ port: 8080 }] });
    expect(opens(run({ networkPolicies: [policy] }))).to.deep.equal([
      "ingress from namespace other-team (not declared) on TCP 8080",
    ]);
  });

  it("reports a label selector no namespace matches today: a namespace created later may", () => {
    const policy = ingress({ from: [{ namespaceSelector: { matchLabels: { team: "x" } } }] });
    expect(opens(run({ networkPolicies: [policy] }))).to.deep.equal([
      "ingress from namespaces matching team=x (not declared: namespaces not created yet) on any port",
    ]);
  });

  it("lists the existing undeclared namespaces a label selector reaches", () => {
    const policy = ingress({
      from: [{ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists" }] } }],
      ports: [{ protocol: "UDP", port: 9000, endPort: 9100 }],
    });
    expect(opens(run({ networkPolicies: [policy] }))).to.deep.equal([
      "ingress from namespaces matching team (not declared: monitoring, other-team and namespaces not created yet) on UDP 9000-9100",
    ]);
  });

  it("reports a selector pinned by the workspace label when a namespace outside the workspace carries it", () => {
    const cluster = [...CLUSTER, { name: "stray", labels: { "secureworkspace.io/workspace": WS } }];
    const policy = ingress({
      from: [{ namespaceSelector: { matchLabels: { "secureworkspace.io/workspace": WS } } }],
    });
    expect(opens(run({ clusterNamespaces: cluster, networkPolicies: [policy] }))).to.deep.equal([
      "ingress from namespaces matching secureworkspace.io/workspace=team-a (not declared: stray) on any port",
    ]);
  });

  it("ignores policies in namespaces the workspace does not hold", () => {
    expect(run({ networkPolicies: [np({ ingress: [{}] }, "allow-all", "other-team")] })).to.deep.equal([]);
  });

  it("ignores a policy whose podSelector can select no pod", () => {
    const policy = np({
      podSelector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }],
      },
      ingress: [{}],
    });
    expect(run({ networkPolicies: [policy] })).to.deep.equal([]);
  });

  describe("against the declared allowances", () => {
    const monitoring = {
      namespaceSelector: { matchLabels: { team: "observability" } },
      podSelector: { matchLabels: { app: "prometheus" } },
      ports: [{ protocol: "TCP" as const, port: 9090 }],
    };
    const spec = { networkPolicy: { allowIngressFrom: [monitoring] } };

    it("reports nothing for an exact copy of a declared allowIngressFrom", () => {
      const policy = ingress({
        from: [{ namespaceSelector: monitoring.namespaceSelector, podSelector: monitoring.podSelector }],
        ports: [{ protocol: "TCP", port: 9090 }],
      });
      expect(run({ spec, networkPolicies: [policy] })).to.deep.equal([]);
    });

    it("reports nothing for a narrower copy (more labels, a sub-range of ports)", () => {
      const policy = ingress({
        from: [
          {
            namespaceSelector: { matchLabels: { team: "observability", env: "prod" } },
            podSelector: { matchLabels: { app: "prometheus", shard: "0" } },
          },
        ],
        ports: [{ port: 9090 }],
      });
      expect(run({ spec, networkPolicies: [policy] })).to.deep.equal([]);
    });

    it("reports the same allowance with wider ports, saying which ports are not declared", () => {
      const policy = ingress({
        from: [{ namespaceSelector: monitoring.namespaceSelector, podSelector: monitoring.podSelector }],
        ports: [{ protocol: "TCP", port: 9090, endPort: 9091 }],
      });
      expect(opens(run({ spec, networkPolicies: [policy] }))).to.deep.equal([
        "ingress from pods app=prometheus in namespaces matching team=observability (not declared: monitoring and namespaces not created yet) on TCP 9091",
      ]);
    });

    it("reports the same allowance without its pod selector", () => {
      const policy = ingress({
        from: [{ namespaceSelector: monitoring.namespaceSelector }],
        ports: [{ port: 9090 }],
      });
      expect(run({ spec, networkPolicies: [policy] })).to.have.length(1);
    });

    it("reports a set of label values wider than the declared one", () => {
      const policy = ingress({
        from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: "team", operator: "In", values: ["observability", "other"] }],
            },
            podSelector: monitoring.podSelector,
          },
        ],
        ports: [{ port: 9090 }],
      });
      expect(opens(run({ spec, networkPolicies: [policy] }))).to.deep.equal([
        "ingress from pods app=prometheus in namespaces matching team in (observability,other) (not declared: other-team and namespaces not created yet) on TCP 9090",
      ]);
    });

    it("reports a declared ingress allowance copied into egress (the other direction is not declared)", () => {
      const policy = egress({
        to: [{ namespaceSelector: monitoring.namespaceSelector }],
        ports: [{ port: 9090 }],
      });
      expect(run({ spec, networkPolicies: [policy] })).to.have.length(1);
    });
  });

  describe("unions of allowances", () => {
    const anyNamespace = ingress({ from: [{ namespaceSelector: {} }] });
    const expr = (key: string, operator: "In" | "NotIn", values: string[]) => ({
      namespaceSelector: { matchExpressions: [{ key, operator, values }] },
    });

    it("reports nothing when allowances together cover every namespace, though none does alone", () => {
      const spec = {
        networkPolicy: { allowIngressFrom: [expr("team", "In", ["x"]), expr("team", "NotIn", ["x"])] },
      };
      expect(run({ spec, networkPolicies: [anyNamespace] })).to.deep.equal([]);
    });

    it("gives up on a pathological set of allowances and reports the peer, saying it could not check it", () => {
      // 17 allowances with two ways each to escape them, then three that together cover everything:
      // 2^17 combinations before the contradiction shows, over the search's step budget.
      const fillers = Array.from({ length: 17 }, (_, i) => ({
        namespaceSelector: { matchLabels: { [`k${i}`]: "x" } },
      }));
      const cover = [expr("team", "NotIn", ["x", "y"]), expr("team", "In", ["x"]), expr("team", "In", ["y"])];
      const spec = { networkPolicy: { allowIngressFrom: [...fillers, ...cover] } };
      expect(opens(run({ spec, networkPolicies: [anyNamespace] }))).to.deep.equal([
        "ingress from any namespace (too complex to check against the declared allowances) on any port",
      ]);
    });
  });

  describe("ipBlocks", () => {
    const spec = {
      networkPolicy: {
        allowEgressTo: [
          { ipBlock: { cidr: "10.0.0.0/8", except: ["10.9.0.0/16"] }, ports: [{ port: 443 }] },
          { ipBlock: { cidr: "fd00::/8" } },
        ],
      },
    };

    it("reports nothing for a block inside a declared block (IPv4 and IPv6)", () => {
      const policy = np({
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "10.1.0.0/16" } }], ports: [{ port: 443 }] },
          { to: [{ ipBlock: { cidr: "fd00:1::/32" } }] },
        ],
      });
      expect(run({ spec, networkPolicies: [policy] })).to.deep.equal([]);
    });

    it("reports a block wider than the declared one", () => {
      const policy = egress({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] });
      expect(opens(run({ spec, networkPolicies: [policy] }))).to.deep.equal([
        "egress to 0.0.0.0/0 on any port",
      ]);
    });

    it("reports a block reaching into a declared exception, and accepts one that excepts it too", () => {
      const into = egress({ to: [{ ipBlock: { cidr: "10.9.1.0/24" } }], ports: [{ port: 443 }] });
      expect(opens(run({ spec, networkPolicies: [into] }))).to.deep.equal([
        "egress to 10.9.1.0/24 on TCP 443",
      ]);
      const around = egress({
        to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.8.0.0/14"] } }],
        ports: [{ port: 443 }],
      });
      expect(run({ spec, networkPolicies: [around] })).to.deep.equal([]);
    });

    it("reports an IPv6 block outside the declared one, and never counts an ipBlock as namespaces", () => {
      const v6 = egress({ to: [{ ipBlock: { cidr: "fe80::/10" } }] });
      expect(run({ spec, networkPolicies: [v6] })).to.have.length(1);
      const everything = {
        networkPolicy: { allowEgressTo: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }] },
      };
      expect(opens(run({ spec: everything, networkPolicies: [egress({})] }))).to.deep.equal([
        "egress to any namespace on any port",
      ]);
    });
  });

  describe("ports", () => {
    const spec = (ports: Array<{ port?: number | string; endPort?: number; protocol?: "TCP" | "UDP" }>) => ({
      networkPolicy: { allowIngressFrom: [{ namespaceSelector: byName("other-team"), ports }] },
    });
    const from = (ports?: Array<{ port?: number | string; endPort?: number; protocol?: string }>) =>
      ingress({ from: [{ namespaceSelector: byName("other-team") }], ...(ports ? { ports } : {}) });

    it("covers a named port only by the same name or by every port", () => {
      expect(
        run({ spec: spec([{ port: "http" }]), networkPolicies: [from([{ port: "http" }])] }),
      ).to.deep.equal([]);
      expect(
        opens(run({ spec: spec([{ port: 8080 }]), networkPolicies: [from([{ port: "http" }])] })),
      ).to.deep.equal(["ingress from namespace other-team (not declared) on TCP http"]);
      expect(
        run({ spec: spec([{ port: 1, endPort: 65535 }]), networkPolicies: [from([{ port: "http" }])] }),
      ).to.deep.equal([]);
    });

    it("does not count a numeric port as covered by a named one", () => {
      expect(
        run({ spec: spec([{ port: "http" }]), networkPolicies: [from([{ port: 8080 }])] }),
      ).to.have.length(1);
    });

    it("tells the protocols apart (absent means TCP)", () => {
      expect(
        run({ spec: spec([{ port: 53 }]), networkPolicies: [from([{ protocol: "TCP", port: 53 }])] }),
      ).to.deep.equal([]);
      expect(
        opens(run({ spec: spec([{ port: 53 }]), networkPolicies: [from([{ protocol: "UDP", port: 53 }])] })),
      ).to.deep.equal(["ingress from namespace other-team (not declared) on UDP 53"]);
    });

    it("says which ports of a range are not declared", () => {
      expect(
        opens(
          run({
            spec: spec([{ port: 80 }, { port: 443 }]),
            networkPolicies: [from([{ port: 1, endPort: 1024 }])],
          }),
        ),
      ).to.deep.equal(["ingress from namespace other-team (not declared) on TCP 1-79, 81-442, 444-1024"]);
      expect(
        opens(run({ spec: spec([{ protocol: "UDP", port: 53 }]), networkPolicies: [from()] })),
      ).to.deep.equal([
        "ingress from namespace other-team (not declared) on any TCP port, UDP 1-52, 54-65535, named ports, any SCTP port",
      ]);
    });
  });

  describe("the baseline's own allowances", () => {
    const dns = egress({
      to: [
        {
          namespaceSelector: byName("kube-system"),
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });

    it("reports nothing for a copy of the DNS allowance, and reports it when DNS is not declared", () => {
      expect(run({ networkPolicies: [dns] })).to.deep.equal([]);
      expect(
        opens(run({ spec: { networkPolicy: { allowDNS: false } }, networkPolicies: [dns] })),
      ).to.deep.equal([
        "egress to pods k8s-app=kube-dns in namespace kube-system (not declared) on TCP 53, UDP 53",
      ]);
    });

    it("reports egress to every pod of kube-system on 53", () => {
      const wide = egress({
        to: [{ namespaceSelector: byName("kube-system") }],
        ports: [{ protocol: "UDP", port: 53 }],
      });
      expect(run({ networkPolicies: [wide] })).to.have.length(1);
    });

    it("reports nothing for a copy of the mesh control-plane allowance when a mesh is set", () => {
      const controlPlane = egress({
        to: [{ namespaceSelector: byName("istio-system") }],
        ports: [{ port: 15012 }, { port: 15017 }],
      });
      expect(
        run({ spec: { serviceMesh: { provider: "istio" } }, networkPolicies: [controlPlane] }),
      ).to.deep.equal([]);
      expect(run({ networkPolicies: [controlPlane] })).to.have.length(1);
    });
  });

  it("joins what one policy opens, and sorts findings by namespace then name", () => {
    const findings = run({
      networkPolicies: [
        np({ ingress: [{ from: [{ namespaceSelector: byName("other-team") }] }] }, "b", PROD),
        np(
          {
            ingress: [{ from: [{ namespaceSelector: byName("other-team") }], ports: [{ port: 80 }] }],
            egress: [{ to: [{ ipBlock: { cidr: "1.2.3.4/32" } }] }],
          },
          "z",
          DEV,
        ),
        np({ ingress: [{}] }, "a", PROD),
      ],
    });
    expect(findings.map((f) => `${f.namespace}/${f.name}`)).to.deep.equal([
      `${DEV}/z`,
      `${PROD}/a`,
      `${PROD}/b`,
    ]);
    expect(findings[0]?.opens).to.equal(
      "ingress from namespace other-team (not declared) on TCP 80; egress to 1.2.3.4/32 on any port",
    );
  });
});

describe("posture: foreign RoleBindings", () => {
  const rb = (
    subjects: ForeignRoleBinding["subjects"],
    name = "rb",
    namespace = DEV,
  ): ForeignRoleBinding => ({
    namespace,
    name,
    roleRef: { kind: "ClusterRole", name: "admin" },
    subjects,
  });
  const spec = {
    rbac: {
      bindings: [
        {
          role: "view" as const,
          subjects: [{ kind: "ServiceAccount" as const, name: "ci", namespace: "ci-system" }],
        },
      ],
    },
  };

  it("reports a binding to a broad group", () => {
    expect(
      run({ roleBindings: [rb([{ kind: "Group", name: "system:authenticated" }], "everyone")] }),
    ).to.deep.equal([
      {
        control: "rbac",
        kind: "RoleBinding",
        namespace: DEV,
        name: "everyone",
        opens: "ClusterRole admin to group system:authenticated",
      },
    ]);
    expect(
      run({ roleBindings: [rb([{ kind: "Group", name: `system:serviceaccounts:${PROD}` }])] }),
    ).to.have.length(1);
  });

  it("reports a ServiceAccount of a namespace outside the workspace that the spec does not declare", () => {
    expect(
      opens(
        run({ spec, roleBindings: [rb([{ kind: "ServiceAccount", name: "bot", namespace: "other-team" }])] }),
      ),
    ).to.deep.equal([
      "ClusterRole admin to ServiceAccount other-team/bot (outside the workspace, not declared)",
    ]);
  });

  it("reports the same ServiceAccount written as a user name, and the anonymous user", () => {
    expect(
      opens(
        run({
          roleBindings: [
            rb([
              { kind: "User", name: "system:serviceaccount:other-team:bot" },
              { kind: "User", name: "system:anonymous" },
            ]),
          ],
        }),
      ),
    ).to.deep.equal([
      "ClusterRole admin to ServiceAccount other-team/bot (user system:serviceaccount:other-team:bot) (outside the workspace, not declared); ClusterRole admin to user system:anonymous (every anonymous request)",
    ]);
  });

  it("reports nothing for a declared outside ServiceAccount, in either spelling", () => {
    const subjects = [
      { kind: "ServiceAccount", name: "ci", namespace: "ci-system" },
      { kind: "User", name: "system:serviceaccount:ci-system:ci" },
    ];
    expect(run({ spec, roleBindings: [rb(subjects)] })).to.deep.equal([]);
  });

  it("reports nothing for the workspace's own ServiceAccounts (namespace defaulting to the binding's), named users and groups", () => {
    const subjects = [
      { kind: "ServiceAccount", name: "app", namespace: PROD },
      { kind: "ServiceAccount", name: "app" },
      { kind: "User", name: "alice@example.com" },
      { kind: "Group", name: "team-a-devs" },
    ];
    expect(run({ roleBindings: [rb(subjects)] })).to.deep.equal([]);
  });

  it("ignores bindings in namespaces the workspace does not hold", () => {
    expect(
      run({ roleBindings: [rb([{ kind: "Group", name: "system:authenticated" }], "x", "other-team")] }),
    ).to.deep.equal([]);
  });
});

describe("posture: foreign PeerAuthentications", () => {
  const pa = (spec: ForeignPeerAuthentication["spec"], name = "pa"): ForeignPeerAuthentication => ({
    namespace: DEV,
    name,
    spec,
  });
  const istio = (mtls: "STRICT" | "PERMISSIVE") => ({ serviceMesh: { provider: "istio" as const, mtls } });

  it("reports DISABLE, and PERMISSIVE under STRICT", () => {
    expect(
      run({ spec: istio("STRICT"), peerAuthentications: [pa({ mtls: { mode: "DISABLE" } }, "off")] }),
    ).to.deep.equal([
      {
        control: "meshMTLS",
        kind: "PeerAuthentication",
        namespace: DEV,
        name: "off",
        opens: "mTLS DISABLE for every workload (workspace requires STRICT)",
      },
    ]);
    expect(
      opens(
        run({
          spec: istio("STRICT"),
          peerAuthentications: [
            pa({ selector: { matchLabels: { app: "legacy" } }, mtls: { mode: "PERMISSIVE" } }),
          ],
        }),
      ),
    ).to.deep.equal(["mTLS PERMISSIVE for workloads app=legacy (workspace requires STRICT)"]);
    expect(
      run({ spec: istio("PERMISSIVE"), peerAuthentications: [pa({ mtls: { mode: "DISABLE" } })] }),
    ).to.have.length(1);
  });

  it("reports a weaker port-level mode", () => {
    const ported = pa({
      selector: { matchLabels: { app: "web" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { "8080": { mode: "DISABLE" }, "9090": { mode: "STRICT" } },
    });
    expect(opens(run({ spec: istio("STRICT"), peerAuthentications: [ported] }))).to.deep.equal([
      "mTLS DISABLE on port 8080 for workloads app=web (workspace requires STRICT)",
    ]);
  });

  it("reports nothing for the same or a stronger mode, or UNSET (inherited)", () => {
    const same = [
      pa({ mtls: { mode: "STRICT" } }, "a"),
      pa({ mtls: { mode: "UNSET" } }, "b"),
      pa({}, "c"),
      pa({ portLevelMtls: { "80": { mode: "UNSET" } } }, "d"),
    ];
    expect(run({ spec: istio("STRICT"), peerAuthentications: same })).to.deep.equal([]);
    expect(
      run({
        spec: istio("PERMISSIVE"),
        peerAuthentications: [pa({ mtls: { mode: "PERMISSIVE" } }), pa({ mtls: { mode: "STRICT" } }, "e")],
      }),
    ).to.deep.equal([]);
  });

  it("reports nothing without Istio", () => {
    const off = [pa({ mtls: { mode: "DISABLE" } })];
    expect(run({ peerAuthentications: off })).to.deep.equal([]);
    expect(run({ spec: { serviceMesh: { provider: "linkerd" } }, peerAuthentications: off })).to.deep.equal(
      [],
    );
  });
});

describe("posture: order", () => {
  it("lists NetworkPolicy findings, then RBAC, then mTLS", () => {
    const findings = run({
      spec: { serviceMesh: { provider: "istio" } },
      peerAuthentications: [{ namespace: DEV, name: "a", spec: { mtls: { mode: "DISABLE" } } }],
      roleBindings: [
        {
          namespace: DEV,
          name: "a",
          roleRef: { kind: "ClusterRole", name: "view" },
          subjects: [{ kind: "Group", name: "system:unauthenticated" }],
        },
      ],
      networkPolicies: [np({ egress: [{}], policyTypes: ["Egress"] }, "z", PROD)],
    });
    expect(findings.map((f) => f.control)).to.deep.equal(["networkPolicy", "rbac", "meshMTLS"]);
  });
});
