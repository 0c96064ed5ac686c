/** Operator configuration (src/config.ts): flags beat environment, which beats the defaults. */
import { expect } from "chai";
import {
  ConfigError,
  durationText,
  HEAP_GROWING_PERCENT,
  heapGrowthFlag,
  loadConfig,
  parseDuration,
  SETTINGS,
  usage,
  type OperatorConfig,
} from "../../src/config.js";

/** loadConfig for a run that must produce a configuration (not --help or --version). */
function load(argv: readonly string[], env: NodeJS.ProcessEnv = {}): OperatorConfig {
  const config = loadConfig(argv, env);
  if (config === "help" || config === "version") throw new Error(`expected a configuration, got ${config}`);
  return config;
}

/** The ConfigError message loadConfig throws for these arguments. */
function configError(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  it("uses the documented defaults with no flags and no environment", () => {
    expect(load([])).to.deep.equal({
      workers: 4,
      resyncPeriodMs: 600_000,
      logLevel: "info",
      logFormat: "json",
      healthPort: 8081,
      healthHost: "0.0.0.0",
      leaderElect: false,
      leaseName: "secure-workspace-operator",
      namespace: "secure-workspace-system",
      kubeconfig: undefined,
      inCluster: false,
      watchTimeoutSeconds: 300,
      shutdownGraceMs: 10_000,
      protectedNamespaces: ["kube-*", "default", "*-system"],
    });
  });

  it("reads every setting from its environment variable", () => {
    const config = load([], {
      SWS_WORKERS: "8",
      SWS_RESYNC_PERIOD: "30s",
      SWS_LOG_LEVEL: "debug",
      SWS_LOG_FORMAT: "text",
      SWS_HEALTH_PORT: "9090",
      SWS_HEALTH_HOST: "127.0.0.1",
      SWS_LEADER_ELECT: "true",
      SWS_LEASE_NAME: "sws-leader",
      POD_NAMESPACE: "ops",
      KUBECONFIG: "/home/me/.kube/config",
      SWS_IN_CLUSTER: "true",
      SWS_WATCH_TIMEOUT: "1m",
      SWS_SHUTDOWN_GRACE: "2s",
      SWS_PROTECTED_NAMESPACES: "kube-*,infra-*",
    });
    expect(config).to.deep.equal({
      workers: 8,
      resyncPeriodMs: 30_000,
      logLevel: "debug",
      logFormat: "text",
      healthPort: 9090,
      healthHost: "127.0.0.1",
      leaderElect: true,
      leaseName: "sws-leader",
      namespace: "ops",
      kubeconfig: "/home/me/.kube/config",
      inCluster: true,
      watchTimeoutSeconds: 60,
      shutdownGraceMs: 2000,
      protectedNamespaces: ["kube-*", "infra-*"],
    });
  });

  it("lets a flag beat its environment variable", () => {
    const env = { SWS_WORKERS: "2", SWS_LOG_LEVEL: "warn", POD_NAMESPACE: "from-env" };
    const config = load(["--workers", "16", "--log-level=error", "--namespace", "from-flag"], env);
    expect(config.workers).to.equal(16);
    expect(config.logLevel).to.equal("error");
    expect(config.namespace).to.equal("from-flag");
  });

  it("reads --flag value and --flag=value alike", () => {
    expect(load(["--health-port", "9000"]).healthPort).to.equal(9000);
    expect(load(["--health-port=9000"]).healthPort).to.equal(9000);
  });

  it("treats a boolean flag without a value as true, also before another flag", () => {
    expect(load(["--leader-elect"]).leaderElect).to.be.true;
    const config = load(["--in-cluster", "--workers", "3"]);
    expect(config.inCluster).to.be.true;
    expect(config.workers).to.equal(3);
    expect(load(["--leader-elect=false"], { SWS_LEADER_ELECT: "true" }).leaderElect).to.be.false;
  });

  it("accepts health port 0 (any free port) and the bounds of workers", () => {
    expect(load(["--health-port", "0"]).healthPort).to.equal(0);
    expect(load(["--workers", "1"]).workers).to.equal(1);
    expect(load(["--workers", "256"]).workers).to.equal(256);
  });

  it("rounds the watch timeout to whole seconds, at least one", () => {
    expect(load(["--watch-timeout", "90s"]).watchTimeoutSeconds).to.equal(90);
    expect(load(["--watch-timeout", "200ms"]).watchTimeoutSeconds).to.equal(1);
  });

  it("turns an empty KUBECONFIG into no kubeconfig", () => {
    expect(load([], { KUBECONFIG: "" }).kubeconfig).to.be.undefined;
  });

  it("reads protected namespace patterns, trimming spaces and dropping duplicates", () => {
    expect(load(["--protected-namespaces", "kube-*, *-system ,kube-*"]).protectedNamespaces).to.deep.equal([
      "kube-*",
      "*-system",
    ]);
    expect(load(["--protected-namespaces=team-*-prod"]).protectedNamespaces).to.deep.equal(["team-*-prod"]);
    expect(load([], { SWS_PROTECTED_NAMESPACES: "*" }).protectedNamespaces).to.deep.equal(["*"]);
  });

  it("reads an empty protected namespace list as none beyond those always protected", () => {
    expect(load(["--protected-namespaces="]).protectedNamespaces).to.deep.equal([]);
    expect(load([], { SWS_PROTECTED_NAMESPACES: " " }).protectedNamespaces).to.deep.equal([]);
  });

  it("returns help for --help, whatever else is given", () => {
    expect(loadConfig(["--help"], {})).to.equal("help");
    expect(loadConfig(["--workers", "2", "--help"], { SWS_WORKERS: "nope" })).to.equal("help");
  });

  it("returns version for --version without reading the other settings, help when both are asked", () => {
    expect(loadConfig(["--version"], {})).to.equal("version");
    expect(loadConfig(["--version"], { SWS_WORKERS: "nope" })).to.equal("version");
    expect(loadConfig(["--version", "--help"], {})).to.equal("help");
    expect(usage()).to.include("--version");
  });

  describe("bad values are one clear ConfigError naming the flag", () => {
    it("workers out of range or not an integer", () => {
      expect(configError(["--workers", "0"])).to.equal('--workers: "0" must be an integer from 1 to 256');
      expect(configError(["--workers", "257"])).to.equal('--workers: "257" must be an integer from 1 to 256');
      expect(configError(["--workers", "2.5"])).to.equal('--workers: "2.5" must be an integer from 1 to 256');
      expect(configError([], { SWS_WORKERS: "four" })).to.equal(
        '--workers: "four" must be an integer from 1 to 256',
      );
    });

    it("health port out of range", () => {
      expect(configError(["--health-port", "65536"])).to.equal(
        '--health-port: "65536" must be an integer from 0 to 65535',
      );
      expect(configError(["--health-port", "-1"])).to.equal(
        '--health-port: "-1" must be an integer from 0 to 65535',
      );
    });

    it("an enum value that is not allowed", () => {
      expect(configError(["--log-level", "verbose"])).to.equal(
        '--log-level: "verbose" must be one of error, warn, info, debug',
      );
      expect(configError(["--log-format", "xml"])).to.equal('--log-format: "xml" must be one of json, text');
      expect(configError([], { SWS_LEADER_ELECT: "yes" })).to.equal(
        '--leader-elect: "yes" must be one of true, false',
      );
      expect(configError(["--in-cluster", "TRUE"])).to.equal(
        '--in-cluster: "TRUE" must be one of true, false',
      );
    });

    it("a duration that is not one", () => {
      expect(configError(["--resync-period", "ten minutes"])).to.equal(
        '--resync-period: "ten minutes" is not a duration (e.g. 30s, 10m)',
      );
      expect(configError([], { SWS_SHUTDOWN_GRACE: "1d" })).to.equal(
        '--shutdown-grace: "1d" is not a duration (e.g. 30s, 10m)',
      );
    });

    it("a protected namespace pattern that is no DNS label with stars, or an empty one", () => {
      const hint = "(lower-case letters, digits, '-' and '*', at most 63, e.g. kube-*,*-system)";
      expect(configError(["--protected-namespaces", "kube-*,Team-A"])).to.equal(
        `--protected-namespaces: "Team-A" is not a namespace pattern ${hint}`,
      );
      expect(configError([], { SWS_PROTECTED_NAMESPACES: "kube.system" })).to.equal(
        `--protected-namespaces: "kube.system" is not a namespace pattern ${hint}`,
      );
      expect(configError(["--protected-namespaces", "team-?"])).to.equal(
        `--protected-namespaces: "team-?" is not a namespace pattern ${hint}`,
      );
      expect(configError(["--protected-namespaces", `${"a".repeat(64)}`])).to.contain(
        "is not a namespace pattern",
      );
      expect(configError(["--protected-namespaces", "kube-*,,default"])).to.equal(
        '--protected-namespaces: "kube-*,,default" has an empty pattern (remove the extra comma)',
      );
      expect(configError(["--protected-namespaces", "kube-*,"])).to.contain("has an empty pattern");
    });

    it("an unknown flag", () => {
      expect(configError(["--wrokers", "4"])).to.equal("unknown flag --wrokers (see --help)");
      expect(configError(["--workers=2", "--verbose"])).to.equal("unknown flag --verbose (see --help)");
    });

    it("a positional argument", () => {
      expect(configError(["run"])).to.equal('unexpected argument "run"');
      expect(configError(["-w", "4"])).to.equal('unexpected argument "-w"');
    });
  });
});

describe("parseDuration", () => {
  it("reads milliseconds, seconds, minutes and hours", () => {
    expect(parseDuration("500ms", "x")).to.equal(500);
    expect(parseDuration("30s", "x")).to.equal(30_000);
    expect(parseDuration("10m", "x")).to.equal(600_000);
    expect(parseDuration("1h", "x")).to.equal(3_600_000);
  });

  it("reads a bare number as milliseconds, and 0 as off", () => {
    expect(parseDuration("1500", "x")).to.equal(1500);
    expect(parseDuration("0", "x")).to.equal(0);
  });

  it("reads fractions and rounds to whole milliseconds", () => {
    expect(parseDuration("1.5s", "x")).to.equal(1500);
    expect(parseDuration("0.5m", "x")).to.equal(30_000);
    expect(parseDuration("1.0004s", "x")).to.equal(1000);
  });

  it("ignores surrounding whitespace", () => {
    expect(parseDuration(" 5s ", "x")).to.equal(5000);
  });

  it("refuses empty, negative, spaced, unknown-unit and upper-case values, naming the flag", () => {
    for (const bad of ["", "-1s", "5 s", "1d", "5S", "s", "1.s", "1e3"]) {
      expect(() => parseDuration(bad, "resync-period"), JSON.stringify(bad))
        .to.throw(ConfigError)
        .with.property("message", `--resync-period: "${bad}" is not a duration (e.g. 30s, 10m)`);
    }
  });
});

describe("usage", () => {
  it("lists every flag with its environment variable and default", () => {
    const text = usage();
    expect(text.split("\n")[0]).to.equal(
      "usage: secure-workspace-operator [--flag value ...] | --help | --version",
    );
    for (const s of SETTINGS) {
      const line = text.split("\n").find((l) => l.trimStart().startsWith(`--${s.flag} `));
      expect(line, s.flag).to.be.a("string");
      expect(line)
        .to.include(s.env)
        .and.include(`(default ${s.fallback || "none"})`);
    }
  });
});

describe("durationText (how a default duration is shown in --help and README)", () => {
  it("writes the largest whole unit, and parses back to the same milliseconds", () => {
    for (const [ms, text] of [
      [600_000, "10m"],
      [10_000, "10s"],
      [3_600_000, "1h"],
      [1500, "1500ms"],
      [0, "0ms"],
    ] as const) {
      expect(durationText(ms)).to.equal(text);
      expect(parseDuration(text, "x")).to.equal(ms);
    }
  });
});

describe("heapGrowthFlag", () => {
  it("sets the heap growth unless the process was given its own", () => {
    const ours = `--heap-growing-percent=${String(HEAP_GROWING_PERCENT)}`;
    expect(heapGrowthFlag([])).to.equal(ours);
    expect(heapGrowthFlag(["--enable-source-maps", "--max-old-space-size=400"])).to.equal(ours);
    expect(heapGrowthFlag(["--heap-growing-percent=50"])).to.equal(undefined);
    expect(heapGrowthFlag(["--trace-gc", "--heap_growing_percent=10"])).to.equal(undefined);
    // Another flag that merely starts alike is not the same flag.
    expect(heapGrowthFlag(["--heap-growing-percentage=5"])).to.equal(ours);
  });
});
