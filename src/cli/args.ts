/**
 * Command-line parsing the way kubectl (cobra/pflag) reads flags: `--name value`, `--name=value`,
 * `-n value`, `-nvalue`, `-n=value`, booleans without a value, `--` ends the flags. Anything the
 * command does not declare is refused (a UsageError, exit 2), never ignored.
 */

/** A usage mistake: the CLI prints it as one line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One flag a command accepts. */
export interface FlagSpec {
  /** Long name without dashes, e.g. "filename". */
  readonly name: string;
  /** One-letter alias without the dash, e.g. "f". Default: none. */
  readonly short?: string;
  /** The value's placeholder in help (e.g. "FILE"); absent for a boolean flag. */
  readonly value?: string;
  /** What the flag does, one line for help. */
  readonly help: string;
  /** The message when the value is missing. Default: `flag needs an argument: --name`. */
  readonly missing?: string;
}

/** What a command accepts. */
export interface CommandSpec {
  readonly name: string;
  readonly flags: readonly FlagSpec[];
  /** The positional arguments' placeholder (e.g. "NAME..."); absent when none are accepted. */
  readonly positional?: string;
}

/** The parsed command line: each value flag's values in order, booleans set, positionals. */
export interface ParsedArgs {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlySet<string>;
  readonly positional: readonly string[];
}

/** Whether `-h` or `--help` appears before `--`: help wins over every other argument. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "-h" || a === "--help") return true;
  }
  return false;
}

function findFlag(spec: CommandSpec, arg: string): { flag: FlagSpec; inline?: string } | undefined {
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const flag = spec.flags.find((f) => f.name === name);
    return flag && (eq < 0 ? { flag } : { flag, inline: arg.slice(eq + 1) });
  }
  const flag = spec.flags.find((f) => f.short !== undefined && f.short === arg[1]);
  if (!flag) return undefined;
  const rest = arg.slice(2);
  if (rest === "") return { flag };
  // -o=json and -ojson both mean -o json (pflag); a boolean takes no attached value.
  return { flag, inline: rest.startsWith("=") ? rest.slice(1) : rest };
}

/** A value flag's value: attached (`--name=v`, `-nv`), or the next argument unless that is a flag. */
function flagValue(
  inline: string | undefined,
  next: string | undefined,
): { value?: string; consumed: number } {
  if (inline !== undefined) return { value: inline, consumed: 0 };
  // "-" is a value (standard input); another flag is not.
  if (next !== undefined && (next === "-" || !next.startsWith("-"))) return { value: next, consumed: 1 };
  return { consumed: 0 };
}

/**
 * Parses `args` against `spec`.
 * @throws UsageError for an unknown flag, a missing value, a value given to a boolean flag, or a
 *   positional argument the command does not take.
 */
export function parseArgs(args: readonly string[], spec: CommandSpec): ParsedArgs {
  const values = new Map<string, string[]>();
  const booleans = new Set<string>();
  const positional: string[] = [];
  const hint = `(see "sws ${spec.name} --help")`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const found = findFlag(spec, arg);
    if (!found)
      throw new UsageError(`unknown flag ${arg.split("=")[0] ?? arg} for "sws ${spec.name}" ${hint}`);
    const { flag, inline } = found;
    if (flag.value === undefined) {
      if (inline !== undefined) throw new UsageError(`flag --${flag.name} takes no value ${hint}`);
      booleans.add(flag.name);
      continue;
    }
    const { value, consumed } = flagValue(inline, args[i + 1]);
    i += consumed;
    if (value === undefined || value === "")
      throw new UsageError(flag.missing ?? `flag needs an argument: --${flag.name} ${hint}`);
    values.set(flag.name, [...(values.get(flag.name) ?? []), value]);
  }
  if (positional.length > 0 && spec.positional === undefined)
    throw new UsageError(`unexpected argument "${positional[0] ?? ""}" for "sws ${spec.name}" ${hint}`);
  return { values, booleans, positional };
}

/** The last value of a flag (a repeated flag overrides, as in kubectl), or undefined. */
export function lastValue(parsed: ParsedArgs, name: string): string | undefined {
  const all = parsed.values.get(name);
  return all?.[all.length - 1];
}

/** The flags section of a command's help, aligned. */
export function formatFlags(flags: readonly FlagSpec[]): string {
  const left = flags.map(
    (f) => `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`,
  );
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `  ${(left[i] ?? "").padEnd(width)}   ${f.help}`).join("\n");
}
