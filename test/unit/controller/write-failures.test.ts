/**
 * A pass whose writes failed throws a WritesFailedError that carries the server's errors as its
 * cause, so the queue's back-off can tell an unavailable server (retry within 30 s of recovery,
 * never before Retry-After) from a refusal (the long back-off).
 */
import { expect } from "chai";
import { WritesFailedError } from "../../../src/controller/reconciler.js";
import type { WriteFailure } from "../../../src/controller/status.js";
import { ApiError, isTransient, retryAfterMs } from "../../../src/runtime/errors.js";

const failure = (reason: string): WriteFailure => ({
  namespace: "team-a",
  object: "NetworkPolicy/sws-default-deny",
  control: "namespace",
  reason,
  message: `apply: ${reason}`,
});

const failed = (errors: ApiError[]): WritesFailedError =>
  new WritesFailedError(
    "team",
    errors.map(() => failure("x")),
    { cause: new AggregateError(errors, `${errors.length} write errors`) },
  );

describe("WritesFailedError (a pass whose writes failed)", () => {
  it("is transient when every write met an unavailable or overloaded server, and keeps its Retry-After", () => {
    const err = failed([
      new ApiError("apply: 503", 503, "ServiceUnavailable", ""),
      new ApiError("apply: 429", 429, "TooManyRequests", "", { retryAfterSeconds: 7 }),
    ]);
    expect(isTransient(err)).to.be.true;
    expect(retryAfterMs(err)).to.equal(7000);
  });

  it("is not transient when any write was refused (403), so it waits out the long back-off", () => {
    const err = failed([
      new ApiError("apply: 503", 503, "ServiceUnavailable", ""),
      new ApiError("apply: 403", 403, "Forbidden", "forbidden"),
    ]);
    expect(isTransient(err)).to.be.false;
  });
});
