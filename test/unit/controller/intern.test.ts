import { expect } from "chai";
import fc from "fast-check";
import { StringPool } from "../../../src/controller/intern.js";

describe("StringPool", () => {
  it("leaves any parsed JSON value deep-equal to what it was", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy: unknown = JSON.parse(JSON.stringify(value));
        const pool = new StringPool();
        expect(pool.internDeep(copy)).to.deep.equal(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("pools each distinct string value once, in objects and arrays, but not resourceVersions or long strings", () => {
    const pool = new StringPool();
    const long = "x".repeat(300);
    const objects: unknown = JSON.parse(
      JSON.stringify([
        { metadata: { name: "a", resourceVersion: "1", labels: { team: "blue" } }, list: ["blue", "a"] },
        { metadata: { name: "a", resourceVersion: "2", labels: { team: "blue" } }, note: long },
      ]),
    );
    pool.internDeep(objects);
    // "a" and "blue" only: the resourceVersions and the long string are left alone.
    expect(pool.size).to.equal(2);
    expect(pool.intern("blue")).to.equal("blue");
    expect(pool.size).to.equal(2);
  });

  it("starts afresh when full, and still returns equal strings", () => {
    const pool = new StringPool(3);
    for (const s of ["a", "b", "c"]) pool.intern(s);
    expect(pool.size).to.equal(3);
    expect(pool.intern("d")).to.equal("d");
    expect(pool.size).to.equal(1);
    expect(pool.intern("a")).to.equal("a");
    expect(pool.size).to.equal(2);
  });

  it("keeps a __proto__ key an own property and the prototype untouched", () => {
    const value = JSON.parse('{"__proto__": "x", "y": {"__proto__": {"z": "w"}}}') as Record<string, unknown>;
    new StringPool().internDeep(value);
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, "__proto__")).to.be.true;
    expect(JSON.stringify(value)).to.equal('{"__proto__":"x","y":{"__proto__":{"z":"w"}}}');
  });
});
