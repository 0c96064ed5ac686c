/** Which failures say "the API server is unavailable" (src/runtime/errors.ts): they get a short retry cap. */
import { expect } from "chai";
import {
  ApiError,
  isTransient,
  RequestError,
  retryAfterMs,
  retryOnConflict,
  TimeoutError,
} from "../../../src/runtime/errors.js";

const answer = (status: number, retryAfterSeconds?: number): ApiError =>
  new ApiError(
    `apply: ${status}`,
    status,
    "",
    "",
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  );

const refused = (): Error =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });

describe("isTransient", () => {
  it("is true for 429, 5xx, a refused connection and a timed-out request", () => {
    expect(isTransient(answer(429))).to.be.true;
    expect(isTransient(answer(500))).to.be.true;
    expect(isTransient(answer(503))).to.be.true;
    expect(isTransient(refused())).to.be.true;
    expect(isTransient(new TimeoutError("request timed out after 30000 ms"))).to.be.true;
    expect(
      isTransient(
        new RequestError("apply /api/v1/namespaces: no answer", "apply", "/", { cause: refused() }),
      ),
    ).to.be.true;
  });

  it("classes by type, not by the words of a message", () => {
    expect(isTransient(new Error("request timed out after 30000 ms"))).to.be.false;
    expect(isTransient(new Error("connect ECONNREFUSED 127.0.0.1:6443"))).to.be.false;
  });

  it("is false for answers a retry rarely fixes, and for plain bugs", () => {
    expect(isTransient(answer(403))).to.be.false;
    expect(isTransient(answer(422))).to.be.false;
    expect(isTransient(answer(409))).to.be.false;
    expect(isTransient(new TypeError("cannot read properties of undefined"))).to.be.false;
  });

  it("looks inside AggregateErrors and causes: transient only when every failure is", () => {
    expect(isTransient(new AggregateError([answer(503), refused()], "2 writes failed"))).to.be.true;
    expect(isTransient(new AggregateError([answer(503), answer(403)], "2 writes failed"))).to.be.false;
    expect(isTransient(new Error("status write", { cause: answer(500) }))).to.be.true;
    expect(isTransient(new Error("status write", { cause: answer(404) }))).to.be.false;
    expect(isTransient(new AggregateError([], "none"))).to.be.false;
  });
});

describe("retryAfterMs", () => {
  it("gives the longest Retry-After inside the error, in ms", () => {
    expect(retryAfterMs(answer(429, 3))).to.equal(3000);
    expect(retryAfterMs(new AggregateError([answer(429, 1), answer(429, 5), answer(500)], "x"))).to.equal(
      5000,
    );
  });

  it("is undefined when the server sent none", () => {
    expect(retryAfterMs(answer(429))).to.equal(undefined);
    expect(retryAfterMs(refused())).to.equal(undefined);
  });
});

describe("retryOnConflict", () => {
  it("tries again after a 409 Conflict, handing the conflict to the next attempt, and returns its answer", async () => {
    const seen: unknown[] = [];
    const first = answer(409);
    const result = await retryOnConflict(3, (n, conflict) => {
      seen.push(conflict);
      return n === 1 ? Promise.reject(first) : Promise.resolve(`attempt ${n}`);
    });
    expect(result).to.equal("attempt 2");
    expect(seen).to.deep.equal([undefined, first]);
  });

  it("rethrows the last conflict after the allowed attempts, and any other error at once", async () => {
    let calls = 0;
    const conflict = answer(409);
    const exhausted = await retryOnConflict(3, () => {
      calls++;
      return Promise.reject(conflict);
    }).catch((err: unknown) => err);
    expect(exhausted).to.equal(conflict);
    expect(calls).to.equal(3);
    calls = 0;
    const forbidden = answer(403);
    const refusedOnce = await retryOnConflict(3, () => {
      calls++;
      return Promise.reject(forbidden);
    }).catch((err: unknown) => err);
    expect(refusedOnce).to.equal(forbidden);
    expect(calls).to.equal(1);
  });
});
