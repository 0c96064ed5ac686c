/** A validation problem: the field path (as in kubectl's messages) and why it is wrong. */
export interface Problem {
  /** e.g. `spec.namespaces[1].name` */
  readonly path: string;
  readonly message: string;
}

/** Renders problems one per line: `spec.namespaces[1].name: must be a DNS-1123 label`. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("\n");
}
