/** Resource quantities as values (src/api/quantity.ts), so "1000m" and "1" compare equal. */
import { expect } from "chai";
import fc from "fast-check";
import { parseQuantity, sameQuantity } from "../../../src/api/quantity.js";

describe("parseQuantity", () => {
  it("reads plain numbers, decimals and signs", () => {
    expect(parseQuantity("1")).to.equal(1);
    expect(parseQuantity("0")).to.equal(0);
    expect(parseQuantity("0.5")).to.equal(0.5);
    expect(parseQuantity(".5")).to.equal(0.5);
    expect(parseQuantity("+2")).to.equal(2);
    expect(parseQuantity("-1")).to.equal(-1);
  });

  it("reads decimal SI suffixes", () => {
    expect(parseQuantity("500m")).to.equal(0.5);
    expect(parseQuantity("250u")).to.be.closeTo(0.00025, 1e-15);
    expect(parseQuantity("100k")).to.equal(100_000);
    expect(parseQuantity("2M")).to.equal(2_000_000);
    expect(parseQuantity("3G")).to.equal(3e9);
    expect(parseQuantity("1T")).to.equal(1e12);
    expect(parseQuantity("1P")).to.equal(1e15);
    expect(parseQuantity("1E")).to.equal(1e18);
  });

  it("reads binary suffixes", () => {
    expect(parseQuantity("1Ki")).to.equal(1024);
    expect(parseQuantity("128Mi")).to.equal(128 * 2 ** 20);
    expect(parseQuantity("1Gi")).to.equal(1_073_741_824);
    expect(parseQuantity("1.5Gi")).to.equal(1_610_612_736);
    expect(parseQuantity("2Ti")).to.equal(2 * 2 ** 40);
    expect(parseQuantity("1Pi")).to.equal(2 ** 50);
  });

  it("reads decimal exponents in either case and with a sign", () => {
    expect(parseQuantity("1e3")).to.equal(1000);
    expect(parseQuantity("1E3")).to.equal(1000);
    expect(parseQuantity("2e+2")).to.equal(200);
    expect(parseQuantity("1e-3")).to.equal(0.001);
  });

  it("returns undefined for strings that are not quantities", () => {
    const invalid = [
      "",
      "abc",
      "Gi",
      "1K",
      "1ki",
      "1gi",
      "1 Gi",
      " 1",
      "1 ",
      "1.2.3",
      "e3",
      "1e",
      "1i",
      "0x10",
      "NaN",
      "Infinity",
    ];
    for (const value of invalid) expect(parseQuantity(value), JSON.stringify(value)).to.be.undefined;
  });
});

describe("sameQuantity", () => {
  it('treats "1000m" and "1" as the same amount', () => {
    expect(sameQuantity("1000m", "1")).to.be.true;
  });

  it('treats "1Gi" and "1073741824" as the same amount', () => {
    expect(sameQuantity("1Gi", "1073741824")).to.be.true;
  });

  it('treats "1e3" and "1k" as the same amount', () => {
    expect(sameQuantity("1e3", "1k")).to.be.true;
  });

  it('treats "0.5" and "500m" as the same amount', () => {
    expect(sameQuantity("0.5", "500m")).to.be.true;
  });

  it("tells different amounts apart, including decimal and binary units of the same size name", () => {
    expect(sameQuantity("1", "2")).to.be.false;
    expect(sameQuantity("1G", "1Gi")).to.be.false;
    expect(sameQuantity("1k", "1Ki")).to.be.false;
    expect(sameQuantity("100m", "101m")).to.be.false;
  });

  it("absorbs float rounding: 0.1 + 0.2 cores in millicores", () => {
    expect(sameQuantity("0.3", "300m")).to.be.true;
    expect(sameQuantity("0.1", "100m")).to.be.true;
  });

  it("compares invalid strings only by identity", () => {
    expect(sameQuantity("lots", "lots")).to.be.true;
    expect(sameQuantity("lots", "many")).to.be.false;
    expect(sameQuantity("lots", "1")).to.be.false;
    expect(sameQuantity("1", "lots")).to.be.false;
  });

  it("holds for any millicore count and its canonical core form", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (milli) => {
        expect(sameQuantity(`${milli}m`, String(milli / 1000)), `${milli}m`).to.be.true;
        expect(sameQuantity(`${milli}m`, `${milli + 1}m`)).to.be.false;
      }),
    );
  });

  it("holds for any mebibyte count and its byte count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (mi) => {
        expect(sameQuantity(`${mi}Mi`, String(mi * 1_048_576))).to.be.true;
        expect(sameQuantity(`${mi}Mi`, `${mi}M`)).to.equal(mi === 0);
      }),
    );
  });
});
