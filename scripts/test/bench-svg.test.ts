import { describe, expect, test } from "bun:test";
import { escapeXml, lineChart, niceTicks } from "../bench/svg.ts";

describe("niceTicks", () => {
  test("round steps covering the range", () => {
    expect(niceTicks(0, 47, 5)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(3, 3.8, 4)).toEqual([3, 3.2, 3.4, 3.6, 3.8]);
  });
  test("a flat or reversed range still gives several ticks", () => {
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
    expect(niceTicks(10, 0)[0]).toBe(0);
    expect(() => niceTicks(0, Number.NaN)).toThrow(RangeError);
  });
});

describe("lineChart", () => {
  const svg = lineChart({
    title: "a < b",
    xLabel: "x",
    yLabel: "y",
    series: [
      { name: "one", points: [[0, 1], [1, 2], [2, Number.NaN], [3, 4]], color: "#f00" },
      { name: "two", points: [[0, 3]], color: "#00f", markers: true },
    ],
    references: [{ y: 5, label: "target", color: "#888" }],
  });
  test("is a standalone SVG document with escaped text", () => {
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("a &lt; b");
    expect(svg).not.toContain("a < b");
  });
  test("breaks a line at a missing point and draws markers, legend and references", () => {
    expect(svg.match(/<polyline[^>]*stroke="#f00"/g)?.length).toBe(2);
    expect(svg.match(/<circle/g)?.length).toBe(1);
    expect(svg).toContain(">one</text>");
    expect(svg).toContain("stroke-dasharray");
    expect(svg).toContain(">target</text>");
  });
  test("escapeXml", () => {
    expect(escapeXml(`<&"'>`)).toBe("&lt;&amp;&quot;&apos;&gt;");
  });
});

describe("lineChart options", () => {
  test("yMax cuts the axis and draws larger values at the top edge", () => {
    const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", yMax: 10, series: [{ name: "s", points: [[0, 5], [1, 500]], color: "#000" }] });
    expect(svg).toContain(">10</text>");
    expect(svg).not.toContain(">500</text>");
    expect(svg).toMatch(/points="[\d.]+,[\d.]+ [\d.]+,34\.0"/);
  });
  test("long series names get fewer legend columns", () => {
    const series = ["a long series name number one", "a long series name number two", "three"].map((name) => ({ name, points: [[0, 1]] as [number, number][], color: "#000" }));
    const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", series });
    const ys = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="12"/g)].map((m) => m[1]);
    expect(new Set(ys).size).toBeGreaterThan(1);
  });
});
