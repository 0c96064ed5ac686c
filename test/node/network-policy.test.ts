/**
 * The NetworkPolicies the operator writes, on real packets: kube-router enforces them on the real
 * node, probe pods send TCP and UDP, and each connection's outcome must equal the verdict of the
 * project's pure NetworkPolicy evaluator (src/baseline/reachability.ts), computed from the objects
 * the API server holds at the time of the check (every NetworkPolicy, Namespace and pod), so the
 * evaluator is proven on packets. Each connection also carries what the workspace spec means for
 * it, written by hand, and the evaluator must agree with that too. The operator runs in-process
 * under its ServiceAccount token (as in the integration suites); test/node/operator-pod.test.ts
 * runs it as a pod.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { WORKSPACE_LABEL } from "../../src/api/constants.js";
import { applyDefaults } from "../../src/api/defaults.js";
import type { SecureWorkspace, SecureWorkspaceSpec } from "../../src/api/types.js";
import { posture, type NetworkPolicySpecInput } from "../../src/baseline/posture.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "../integration/support/operator.js";
import { installIstioCrds } from "../integration/support/istio.js";
import { deleteWorkspace, waitReady, workspace } from "../integration/support/workspaces.js";
import type { TestKubeClient } from "../support/test-client.js";
import { check, NONE, type Case, type Target } from "./support/judged.js";
import { serveOutsideAddresses } from "./support/outside-addresses.js";
import { apply, kubectl, namespace, probePod, waitPodsReady, type PodRef } from "./support/pods.js";

// Every example with NetworkPolicies to enforce. Not here: audit-mode (Audit writes nothing),
// team-quota (minimal's policies, plus a quota the probe pods would have to budget for),
// relaxed-guardrails (istio-strict's policies; its point is admission, tested in integration).
const EXAMPLES = [
  "minimal.yaml",
  "multi-namespace.yaml",
  "ingress-controller.yaml",
  "istio-strict.yaml",
  "linkerd.yaml",
];
const SERVER_PORTS = { tcp: [8080, 9090], udp: [5353] };

/** The generated workspace: two namespaces, an ingress allowance from one namespace, one egress allowance. */
const MATRIX = "sws-node-matrix";
const MATRIX_NS = ["sws-matrix-a", "sws-matrix-b"];
const ALLOWED_NS = "sws-allowed"; // allowIngressFrom names it
const OUTSIDE_NS = "sws-outside"; // nobody's
const INGRESS_NS = "ingress-nginx"; // the ingress-controller example's peer

function matrixSpec(egressTargetIp: string): SecureWorkspaceSpec {
  return {
    namespaces: MATRIX_NS.map((name) => ({ name })),
    networkPolicy: {
      allowIngressFrom: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ALLOWED_NS } },
          ports: [
            { protocol: "TCP", port: 8080 },
            { protocol: "UDP", port: 5353 },
          ],
        },
      ],
      allowEgressTo: [
        { ipBlock: { cidr: `${egressTargetIp}/32` }, ports: [{ protocol: "TCP", port: 9090 }] },
      ],
    },
  };
}

const srv = (ns: string): PodRef => ({ namespace: ns, name: "srv" });
const cli = (ns: string): PodRef => ({ namespace: ns, name: "cli" });
const DNS: PodRef = { namespace: "kube-system", name: "sws-dns" };
const EGRESS_TARGET: PodRef = { namespace: OUTSIDE_NS, name: "egress-target" };
const INGRESS_CTL: PodRef = { namespace: INGRESS_NS, name: "controller" };
const INGRESS_OTHER: PodRef = { namespace: INGRESS_NS, name: "other" };
/** Stand-ins for the mesh control planes the mesh examples name (istiod, linkerd's destination). */
const ISTIOD: PodRef = { namespace: "istio-system", name: "istiod" };
const LINKERD: PodRef = { namespace: "linkerd", name: "destination" };

/**
 * The ingress-controller example's egress allowance: 10.20.0.0/16 except 10.20.99.0/24 on TCP 5432.
 * Stand-ins on the node's bridge (test/node/support/outside-addresses.ts): one inside the range,
 * one in the excepted range, one just outside the range.
 */
const DATABASE = "10.20.1.10";
const EXCEPTED_DATABASE = "10.20.99.10";
const OUTSIDE_RANGE = "10.21.0.10";

function exampleSpec(file: string): SecureWorkspace {
  return parse(readFileSync(path.join(repoRoot(), "examples", file), "utf8")) as SecureWorkspace;
}

describe("NetworkPolicies on real packets (kube-router on a real node)", function () {
  let operator: RunningOperator;
  let admin: TestKubeClient;
  const ips = new Map<string, string>();
  const workspaces: string[] = [];
  const extraNamespaces = [ALLOWED_NS, OUTSIDE_NS, INGRESS_NS, ISTIOD.namespace, LINKERD.namespace];
  const ownedNamespaces: string[] = [];

  const ipOf = (p: PodRef): string => {
    const ip = ips.get(`${p.namespace}/${p.name}`);
    if (!ip) throw new Error(`no IP for ${p.namespace}/${p.name}`);
    return ip;
  };
  /** Connections from one client to one target on several ports, with the spec's intent for each. */
  const cases = (
    from: PodRef,
    to: Target,
    ports: Array<[protocol: "tcp" | "udp", port: number, intent: "connect" | "blocked"]>,
  ): Case[] => ports.map(([protocol, port, intent]) => ({ from, to, protocol, port, intent }));
  const all = (e: "connect" | "blocked"): Array<["tcp" | "udp", number, "connect" | "blocked"]> => [
    ["tcp", 8080, e],
    ["tcp", 9090, e],
    ["udp", 5353, e],
  ];
  /** The packets equal the evaluator's verdicts, and the evaluator agrees with the spec's intent. */
  const expectVerdicts = async (list: Case[]): Promise<void> => {
    const checked = await check(admin, list);
    expect(checked.disagreements, `${list.length} connections`).to.deep.equal(NONE);
  };

  before(async function () {
    await installOperatorPrerequisites();
    await installIstioCrds(); // istio-strict's PeerAuthentication and AuthorizationPolicy
    admin = adminClient();
    operator = await startOperator();
    for (const file of EXAMPLES) {
      const ws = exampleSpec(file);
      await admin.apply(workspace(ws.metadata.name, ws.spec));
      workspaces.push(ws.metadata.name);
      ownedNamespaces.push(...ws.spec.namespaces.map((n) => n.name));
    }
    await apply(extraNamespaces.map((n) => namespace(n)));
    for (const name of workspaces) await waitReady(admin, name);

    const pods: Array<{ ref: PodRef; obj: unknown }> = [
      {
        ref: DNS,
        obj: probePod(DNS, {
          serve: { tcp: [53, 8080], udp: [53] },
          labels: { "k8s-app": "kube-dns" },
          root: true,
        }),
      },
      { ref: EGRESS_TARGET, obj: probePod(EGRESS_TARGET, { serve: SERVER_PORTS }) },
      {
        ref: INGRESS_CTL,
        obj: probePod(INGRESS_CTL, { labels: { "app.kubernetes.io/name": "ingress-nginx" } }),
      },
      { ref: INGRESS_OTHER, obj: probePod(INGRESS_OTHER) },
      { ref: ISTIOD, obj: probePod(ISTIOD, { serve: { tcp: [15012, 15017, 8080] } }) },
      { ref: LINKERD, obj: probePod(LINKERD, { serve: { tcp: [8080, 8086, 8090, 9090] } }) },
    ];
    for (const ns of [...ownedNamespaces, ...MATRIX_NS, ALLOWED_NS, OUTSIDE_NS]) {
      pods.push({ ref: srv(ns), obj: probePod(srv(ns), { serve: SERVER_PORTS }) });
      pods.push({ ref: cli(ns), obj: probePod(cli(ns)) });
    }
    // The matrix workspace's egress allowance names the target pod's IP, so the target comes first.
    const early = pods.filter((p) => !MATRIX_NS.includes(p.ref.namespace));
    await apply(early.map((p) => p.obj));
    for (const [k, v] of await waitPodsReady(early.map((p) => p.ref))) ips.set(k, v);
    await admin.apply(workspace(MATRIX, matrixSpec(ipOf(EGRESS_TARGET))));
    workspaces.push(MATRIX);
    await waitReady(admin, MATRIX);
    const late = pods.filter((p) => MATRIX_NS.includes(p.ref.namespace));
    await apply(late.map((p) => p.obj));
    for (const [k, v] of await waitPodsReady(late.map((p) => p.ref))) ips.set(k, v);
  });

  after(async function () {
    await kubectl([
      "delete",
      "pod",
      "-n",
      "kube-system",
      DNS.name,
      "--ignore-not-found",
      "--wait=false",
    ]).catch(() => "");
    for (const name of workspaces) await deleteWorkspace(admin, name).catch(() => undefined);
    await kubectl([
      "delete",
      "namespace",
      ...extraNamespaces,
      ...ownedNamespaces,
      ...MATRIX_NS,
      "--ignore-not-found",
      "--wait=false",
    ]).catch(() => "");
    await operator?.stop();
    admin?.close();
  });

  it("minimal: default deny blocks, same-namespace and DNS (UDP and TCP 53) connect", async function () {
    const ns = "example-minimal";
    await expectVerdicts([
      ...cases(cli(ns), srv(ns), all("connect")),
      ...cases(cli(ns), DNS, [
        ["udp", 53, "connect"],
        ["tcp", 53, "connect"],
        ["tcp", 8080, "blocked"],
      ]),
      ...cases(cli(ns), srv(OUTSIDE_NS), all("blocked")),
      ...cases(cli(OUTSIDE_NS), srv(ns), all("blocked")),
      // Another workspace's namespace whose egress is open: this workspace's ingress deny decides.
      ...cases(cli("platform-api"), srv(ns), all("blocked")),
    ]);
  });

  it("multi-namespace: ingress only from the workspace's namespaces, egress open", async function () {
    await expectVerdicts([
      ...cases(cli("platform-web"), srv("platform-api"), all("connect")),
      ...cases(cli("platform-jobs"), srv("platform-web"), all("connect")),
      ...cases(cli("platform-api"), srv("platform-api"), all("connect")),
      ...cases(cli(OUTSIDE_NS), srv("platform-api"), all("blocked")),
      ...cases(cli("example-minimal"), srv("platform-api"), all("blocked")),
      ...cases(cli("platform-api"), srv(OUTSIDE_NS), all("connect")),
    ]);
  });

  it("ingress-controller: the controller's pods reach TCP 8080 only, nobody else gets in", async function () {
    const ns = "web-frontend";
    await expectVerdicts([
      ...cases(INGRESS_CTL, srv(ns), [
        ["tcp", 8080, "connect"],
        ["tcp", 9090, "blocked"],
        ["udp", 5353, "blocked"],
      ]),
      ...cases(INGRESS_OTHER, srv(ns), all("blocked")),
      ...cases(cli(OUTSIDE_NS), srv(ns), all("blocked")),
      ...cases(cli(ns), srv(ns), all("connect")),
      ...cases(cli(ns), DNS, [["udp", 53, "connect"]]),
      // Its egress allowance is an address range outside the pod network: anything else is blocked.
      ...cases(cli(ns), srv(OUTSIDE_NS), all("blocked")),
      ...cases(cli(ns), srv("platform-api"), all("blocked")),
    ]);
  });

  it("ingress-controller: its egress allowance reaches 10.20.0.0/16 on TCP 5432 only, not the excepted 10.20.99.0/24", async function () {
    const ns = "web-frontend";
    const targets = [DATABASE, EXCEPTED_DATABASE, OUTSIDE_RANGE];
    const outside = await serveOutsideAddresses(targets, { tcp: [5432, 8080], udp: [5432] });
    try {
      const database = { address: DATABASE };
      await expectVerdicts([
        ...cases(cli(ns), database, [
          ["tcp", 5432, "connect"],
          ["tcp", 8080, "blocked"],
          ["udp", 5432, "blocked"],
        ]),
        ...cases(cli(ns), { address: EXCEPTED_DATABASE }, [["tcp", 5432, "blocked"]]),
        ...cases(cli(ns), { address: OUTSIDE_RANGE }, [["tcp", 5432, "blocked"]]),
        // Another workspace under default deny with no such allowance.
        ...cases(cli("example-minimal"), database, [["tcp", 5432, "blocked"]]),
        // Controls: from a namespace nobody isolates every listener answers, so the blocks above
        // are the policy's doing.
        ...targets.flatMap((address) =>
          cases(cli(OUTSIDE_NS), { address }, [
            ["tcp", 5432, "connect"],
            ["tcp", 8080, "connect"],
            ["udp", 5432, "connect"],
          ]),
        ),
      ]);
    } finally {
      await outside.close();
    }
  });

  it("istio-strict and linkerd: pods reach their mesh control plane on its ports only, nothing else leaves", async function () {
    const tcp = (
      ...ports: Array<[number, "connect" | "blocked"]>
    ): Array<["tcp", number, "connect" | "blocked"]> => ports.map(([port, e]) => ["tcp", port, e]);
    await expectVerdicts([
      ...cases(cli("payments-api"), ISTIOD, tcp([15012, "connect"], [15017, "connect"], [8080, "blocked"])),
      ...cases(cli("payments-worker"), ISTIOD, tcp([15012, "connect"], [8080, "blocked"])),
      ...cases(cli("payments-api"), srv("payments-api"), all("connect")),
      ...cases(cli("payments-api"), srv("payments-worker"), all("blocked")),
      ...cases(cli("payments-api"), LINKERD, tcp([8080, "blocked"])),
      ...cases(
        cli("orders-linkerd"),
        LINKERD,
        tcp([8080, "connect"], [8086, "connect"], [8090, "connect"], [9090, "blocked"]),
      ),
      ...cases(cli("orders-linkerd"), ISTIOD, tcp([15012, "blocked"])),
      ...cases(cli("orders-linkerd"), DNS, [["udp", 53, "connect"]]),
      ...cases(cli(OUTSIDE_NS), srv("orders-linkerd"), all("blocked")),
      ...cases(cli(OUTSIDE_NS), srv("payments-api"), all("blocked")),
    ]);
  });

  it("generated matrix: every client namespace kind x TCP/UDP ports, exactly the declared allowances", async function () {
    const [a, b] = MATRIX_NS as [string, string];
    // Ingress into a: what the spec declares, per client kind.
    const ingress = (from: string, protocol: "tcp" | "udp", port: number): "connect" | "blocked" => {
      if (from === a) return "connect"; // same namespace
      if (from === ALLOWED_NS)
        return (protocol === "tcp" && port === 8080) || (protocol === "udp" && port === 5353)
          ? "connect"
          : "blocked";
      return "blocked"; // the workspace's other namespace, another workspace's, an unrelated one
    };
    const list: Case[] = [];
    for (const from of [a, b, "platform-api", OUTSIDE_NS, ALLOWED_NS]) {
      for (const [protocol, port] of [
        ["tcp", 8080],
        ["tcp", 9090],
        ["udp", 5353],
      ] as const) {
        list.push(...cases(cli(from), srv(a), [[protocol, port, ingress(from, protocol, port)]]));
      }
    }
    // Egress from a: same namespace, DNS, the declared address on TCP 9090 only, nothing else.
    list.push(
      ...cases(cli(a), DNS, [
        ["udp", 53, "connect"],
        ["tcp", 53, "connect"],
        ["tcp", 8080, "blocked"],
      ]),
      ...cases(cli(a), EGRESS_TARGET, [
        ["tcp", 9090, "connect"],
        ["tcp", 8080, "blocked"],
        ["udp", 5353, "blocked"],
      ]),
      ...cases(cli(a), srv(OUTSIDE_NS), all("blocked")),
      ...cases(cli(a), srv(b), all("blocked")),
      ...cases(cli(a), srv("platform-api"), all("blocked")),
    );
    await expectVerdicts(list);
  });

  it("a tenant's own policies inside the workspace open exactly their port between its namespaces", async function () {
    const [a, b] = MATRIX_NS as [string, string];
    // What a tenant may add under the guardrails (peers inside the workspace; admission is tested in
    // test/integration/guardrails.test.ts): a's ingress and b's egress on TCP 9090, by workspace label.
    const inside = { namespaceSelector: { matchLabels: { [WORKSPACE_LABEL]: MATRIX } } };
    const port = [{ protocol: "TCP", port: 9090 }];
    const tenant = [
      {
        namespace: a,
        name: "tenant-from-workspace",
        spec: { policyTypes: ["Ingress"], ingress: [{ from: [inside], ports: port }] },
      },
      {
        namespace: b,
        name: "tenant-to-workspace",
        spec: { policyTypes: ["Egress"], egress: [{ to: [inside], ports: port }] },
      },
    ].map(({ namespace: ns, name, spec }) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace: ns },
      spec: { podSelector: {}, ...spec },
    }));
    await apply(tenant);
    try {
      await expectVerdicts([
        ...cases(cli(b), srv(a), [
          ["tcp", 9090, "connect"],
          ["tcp", 8080, "blocked"],
          ["udp", 5353, "blocked"],
        ]),
        ...cases(cli(OUTSIDE_NS), srv(a), all("blocked")),
        ...cases(cli("platform-api"), srv(a), all("blocked")),
        ...cases(cli(ALLOWED_NS), srv(a), [["tcp", 9090, "blocked"]]),
        ...cases(cli(b), srv(OUTSIDE_NS), all("blocked")),
      ]);
    } finally {
      await kubectl(["delete", "networkpolicy", "-n", a, "tenant-from-workspace", "--ignore-not-found"]);
      await kubectl(["delete", "networkpolicy", "-n", b, "tenant-to-workspace", "--ignore-not-found"]);
    }
  });

  it("the posture evaluator judges others' policies as the packets do: it reports exactly those that let an outsider in", async function () {
    const [a] = MATRIX_NS as [string, string];
    const byName = (ns: string): unknown => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
    });
    const scenarios = [
      {
        name: "foreign-inside",
        from: { namespaceSelector: { matchLabels: { [WORKSPACE_LABEL]: MATRIX } } },
        port: 9090,
        widens: false,
      },
      { name: "foreign-declared", from: byName(ALLOWED_NS), port: 8080, widens: false },
      { name: "foreign-outside", from: byName(OUTSIDE_NS), port: 9090, widens: true },
    ];
    const labels = JSON.parse(await kubectl(["get", "namespaces", "-o", "json"])) as {
      items: Array<{ metadata: { name: string; labels?: Record<string, string> } }>;
    };
    const clusterNamespaces = labels.items.map((n) => ({
      name: n.metadata.name,
      labels: n.metadata.labels ?? {},
    }));
    // Outsiders whose own egress is open, so only a's ingress decides; what the spec declares for them.
    const outsiders = [OUTSIDE_NS, ALLOWED_NS, "platform-api"];
    const declared = (from: string, protocol: "tcp" | "udp", port: number): boolean =>
      from === ALLOWED_NS && ((protocol === "tcp" && port === 8080) || (protocol === "udp" && port === 5353));
    for (const s of scenarios) {
      const spec = {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [s.from], ports: [{ protocol: "TCP", port: s.port }] }],
      };
      const findings = posture({
        workspace: MATRIX,
        namespaces: MATRIX_NS,
        spec: applyDefaults(matrixSpec(ipOf(EGRESS_TARGET))),
        clusterNamespaces,
        networkPolicies: [{ namespace: a, name: s.name, spec: spec as NetworkPolicySpecInput }],
        roleBindings: [],
      });
      await apply([
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: s.name, namespace: a },
          spec,
        },
      ]);
      try {
        const list = outsiders.flatMap((from) =>
          (
            [
              ["tcp", 8080],
              ["tcp", 9090],
              ["udp", 5353],
            ] as const
          ).flatMap(([protocol, port]) => {
            const admitted =
              declared(from, protocol, port) ||
              (s.widens && from === OUTSIDE_NS && protocol === "tcp" && port === s.port);
            return cases(cli(from), srv(a), [[protocol, port, admitted ? "connect" : "blocked"]]);
          }),
        );
        const { verdicts, disagreements } = await check(admin, list);
        expect(disagreements, s.name).to.deep.equal(NONE);
        const outsiderGotIn = verdicts.some(
          (v) => v.connected && !declared(v.from.namespace, v.protocol, v.port),
        );
        expect(findings.length > 0, `${s.name}: posture ${JSON.stringify(findings)}`).to.equal(outsiderGotIn);
        expect(outsiderGotIn, s.name).to.equal(s.widens);
      } finally {
        await kubectl(["delete", "networkpolicy", "-n", a, s.name, "--ignore-not-found"]);
      }
    }
  });
});
