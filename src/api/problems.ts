/** A validation problem: the field path (as in kubectl's messages) and why it is wrong. */
export interface Problem {
  /** e.g. `spec.namespaces[1].name` */
  readonly path: string;
  readonly message: string;
  /**
   * Set on a schema problem of a kind that makes the API server skip the CRD's CEL rules: a wrong
   * type, a missing required field, a value outside an enum, a string, list or map over its
   * maximum (apiextensions-apiserver's hasBlockingErr). The server then reports the schema's
   * problems only, with "some validation rules were not checked".
   */
  readonly stopsRules?: true;
}
