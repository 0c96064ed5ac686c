import { expect } from "chai";
import fc from "fast-check";
import {
  claimSpec,
  isHeldByAnother,
  microTime,
  releaseSpec,
  resolveTimings,
  type LeaseSpec,
} from "../../../src/runtime/leader-election.js";

const T0 = Date.UTC(2026, 0, 1);

describe("leader election: pure pieces", () => {
  describe("microTime", () => {
    it("formats a Kubernetes MicroTime with six fractional digits", () => {
      expect(microTime(T0)).to.equal("2026-01-01T00:00:00.000000Z");
      expect(microTime(T0 + 1234)).to.equal("2026-01-01T00:00:01.234000Z");
    });

    it("round-trips through Date.parse to the millisecond", () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4102444800000 }), (ms) => {
          expect(microTime(ms)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
          expect(Date.parse(microTime(ms))).to.equal(ms);
        }),
      );
    });
  });

  describe("resolveTimings", () => {
    it("defaults to client-go's 15 s / 10 s / 2 s", () => {
      expect(resolveTimings({})).to.deep.equal({
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      });
    });

    it("refuses a renew deadline that is not shorter than the lease duration", () => {
      expect(() => resolveTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).to.throw(
        /leaseDurationMs/,
      );
    });

    it("refuses a retry period too long for the renew deadline", () => {
      expect(() => resolveTimings({ renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).to.throw(
        /retryPeriodMs/,
      );
      expect(() => resolveTimings({ retryPeriodMs: 0 })).to.throw(/positive/);
    });
  });

  describe("isHeldByAnother", () => {
    const held: LeaseSpec = { holderIdentity: "other", leaseDurationSeconds: 15 };

    it("is true while the other holder's record is younger than its duration", () => {
      expect(isHeldByAnother({ spec: held, sinceMs: T0 }, "me", T0 + 14_999, 15)).to.be.true;
    });

    it("is false once the record went unchanged for its whole duration", () => {
      expect(isHeldByAnother({ spec: held, sinceMs: T0 }, "me", T0 + 15_000, 15)).to.be.false;
    });

    it("treats a released lease (empty holder) and our own lease as free", () => {
      expect(isHeldByAnother({ spec: { ...held, holderIdentity: "" }, sinceMs: T0 }, "me", T0, 15)).to.be
        .false;
      expect(isHeldByAnother({ spec: { leaseDurationSeconds: 15 }, sinceMs: T0 }, "me", T0, 15)).to.be.false;
      expect(isHeldByAnother({ spec: held, sinceMs: T0 }, "other", T0, 15)).to.be.false;
    });

    it("ignores the lease's renewTime: a stale-looking timestamp does not end a term we just saw change", () => {
      // Clock skew: the holder's clock is an hour behind ours. Its renewal is still fresh to us.
      const skewed: LeaseSpec = { ...held, renewTime: microTime(T0 - 3_600_000) };
      expect(isHeldByAnother({ spec: skewed, sinceMs: T0 }, "me", T0 + 1_000, 15)).to.be.true;
    });

    it("falls back to our own duration when the record has none", () => {
      const noDuration: LeaseSpec = { holderIdentity: "other" };
      expect(isHeldByAnother({ spec: noDuration, sinceMs: T0 }, "me", T0 + 10_000, 15)).to.be.true;
      expect(isHeldByAnother({ spec: noDuration, sinceMs: T0 }, "me", T0 + 15_000, 15)).to.be.false;
    });

    it("never frees another holder's lease before its duration has passed (property)", () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1 }),
          fc.integer({ min: 1, max: 3600 }),
          fc.integer({ min: 0, max: 10 ** 12 }),
          fc.nat(),
          (holder, seconds, since, elapsed) => {
            fc.pre(holder !== "me");
            const free = !isHeldByAnother(
              { spec: { holderIdentity: holder, leaseDurationSeconds: seconds }, sinceMs: since },
              "me",
              since + elapsed,
              15,
            );
            expect(free).to.equal(elapsed >= seconds * 1000);
          },
        ),
      );
    });
  });

  describe("claimSpec", () => {
    it("creates a fresh record with no transitions", () => {
      expect(claimSpec(undefined, "me", T0, 15)).to.deep.equal({
        holderIdentity: "me",
        leaseDurationSeconds: 15,
        acquireTime: "2026-01-01T00:00:00.000000Z",
        renewTime: "2026-01-01T00:00:00.000000Z",
        leaseTransitions: 0,
      });
    });

    it("keeps acquireTime and the transition count when renewing its own lease", () => {
      const mine = claimSpec(undefined, "me", T0, 15);
      const renewed = claimSpec({ ...mine, leaseTransitions: 4 }, "me", T0 + 2_000, 15);
      expect(renewed.acquireTime).to.equal(mine.acquireTime);
      expect(renewed.renewTime).to.equal(microTime(T0 + 2_000));
      expect(renewed.leaseTransitions).to.equal(4);
    });

    it("counts a transition when taking the lease from another holder or after a release", () => {
      const theirs: LeaseSpec = {
        holderIdentity: "other",
        leaseTransitions: 2,
        acquireTime: microTime(T0 - 60_000),
      };
      const taken = claimSpec(theirs, "me", T0, 15);
      expect(taken).to.include({ holderIdentity: "me", leaseTransitions: 3, acquireTime: microTime(T0) });
      expect(claimSpec(releaseSpec(theirs, T0), "me", T0, 15).leaseTransitions).to.equal(3);
    });
  });

  describe("releaseSpec", () => {
    it("clears the holder and shortens the duration to one second, keeping the transition count", () => {
      const released = releaseSpec(
        { holderIdentity: "me", leaseDurationSeconds: 15, leaseTransitions: 3 },
        T0,
      );
      expect(released).to.include({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 3 });
      expect(released.renewTime).to.equal(microTime(T0));
    });
  });
});
