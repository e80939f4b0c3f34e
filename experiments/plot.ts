/**
 * Line plots (axes, ticks, lines with markers, legend) written as SVG text and, from the same
 * layout, rasterised into an RGBA canvas and encoded as PNG.
 * @module
 */
import { encodePng } from "./png.ts";
import { textWidth } from "./font.ts";
import { Canvas } from "./raster.ts";

/** Marker shapes. */
export type Marker = "circle" | "square";

/** One line of a plot. */
export interface LineSeries {
  label: string;
  x: number[];
  y: number[];
  /** `#rrggbb`. */
  color: string;
  dashed?: boolean;
  marker?: Marker;
}

/** A tick: its value on the axis and its label. */
export interface Tick {
  value: number;
  label: string;
}

/** What to draw. */
export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Default 640 x 420 pixels. */
  width?: number;
  height?: number;
  /** Axis ranges (default: the data's range, y padded and rounded to nice ticks). */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Custom x ticks (default: nice numbers). */
  xTicks?: Tick[];
  /** Corner of the legend (default "bottom-left": accuracy curves fall to the right). */
  legend?: LegendCorner;
}

/** Where the legend box goes inside the plotting area. */
export type LegendCorner = "bottom-left" | "top-right";

/** Pixel geometry shared by both renderers. */
export interface PlotLayout {
  width: number;
  height: number;
  /** The plotting area: left, top, right, bottom in pixels. */
  area: { left: number; top: number; right: number; bottom: number };
  xRange: [number, number];
  yRange: [number, number];
  xTicks: Tick[];
  yTicks: Tick[];
  /** The legend box and the y of each entry's line (one per series). */
  legend: { left: number; top: number; width: number; height: number; rows: number[] };
  /** Data -> pixel. */
  px(x: number): number;
  py(y: number): number;
}

function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(decimals);
}

/**
 * About `count` evenly spaced "nice" ticks (steps of 1, 2 or 5 times a power of ten) covering
 * [lo, hi].
 *
 * @example
 * ```ts
 * import { niceTicks } from "./plot.ts";
 * niceTicks(0, 100, 5).map((t) => t.value); // [0, 20, 40, 60, 80, 100]
 * ```
 */
export function niceTicks(lo: number, hi: number, count = 5): Tick[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi)) || hi < lo) {
    throw new Error(`tick range must be finite with lo <= hi; got [${lo}, ${hi}]`);
  }
  if (hi === lo) return [{ value: lo, label: formatTick(lo, Math.abs(lo) || 1) }];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  const ticks: Tick[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    const value = Math.abs(v) < step * 1e-9 ? 0 : v;
    ticks.push({ value, label: formatTick(value, step) });
  }
  return ticks;
}

function checkPlot(plot: LinePlot): void {
  if (plot.series.length === 0) throw new Error("a line plot needs at least one series");
  for (const s of plot.series) {
    if (s.x.length !== s.y.length || s.x.length === 0) {
      throw new Error(
        `series '${s.label}' needs as many x as y values (>= 1); got ${s.x.length} and ${s.y.length}`,
      );
    }
    if ([...s.x, ...s.y].some((v) => !Number.isFinite(v))) {
      throw new Error(`series '${s.label}' has a non-finite value`);
    }
  }
}

/**
 * The pixel layout of a plot: margins, ranges, ticks and the data-to-pixel maps.
 *
 * @example
 * ```ts
 * import { layoutPlot } from "./plot.ts";
 * const l = layoutPlot({ title: "t", xLabel: "x", yLabel: "y",
 *   series: [{ label: "a", x: [0, 1], y: [0, 50], color: "#1f77b4" }] });
 * l.py(l.yRange[0]); // the bottom of the plotting area
 * ```
 */
export function layoutPlot(plot: LinePlot): PlotLayout {
  checkPlot(plot);
  const width = plot.width ?? 640, height = plot.height ?? 420;
  const xs = plot.series.flatMap((s) => s.x), ys = plot.series.flatMap((s) => s.y);
  let xRange: [number, number] = plot.xRange ?? [Math.min(...xs), Math.max(...xs)];
  if (xRange[0] === xRange[1]) xRange = [xRange[0] - 1, xRange[1] + 1];
  let yRange = plot.yRange;
  let yTicks: Tick[];
  if (yRange) yTicks = niceTicks(yRange[0], yRange[1]);
  else {
    const lo = Math.min(...ys), hi = Math.max(...ys);
    yTicks = niceTicks(lo === hi ? lo - 1 : lo, lo === hi ? hi + 1 : hi);
    const step = yTicks.length > 1 ? yTicks[1].value - yTicks[0].value : 1;
    const first = Math.min(yTicks[0].value, Math.floor(lo / step) * step);
    const last = Math.max(yTicks.at(-1)!.value, Math.ceil(hi / step) * step);
    yRange = [first, last];
    yTicks = niceTicks(first, last);
  }
  const area = { left: 70, top: 40, right: width - 20, bottom: height - 55 };
  const px = (x: number) =>
    area.left + ((x - xRange[0]) / (xRange[1] - xRange[0])) * (area.right - area.left);
  const py = (y: number) =>
    area.bottom - ((y - yRange![0]) / (yRange![1] - yRange![0])) * (area.bottom - area.top);
  const xTicks = plot.xTicks ?? niceTicks(xRange[0], xRange[1]);
  const rowHeight = 18;
  const legendWidth = 50 + 7 * Math.max(...plot.series.map((s) => s.label.length));
  const legendHeight = rowHeight * plot.series.length + 6;
  const corner = plot.legend ?? "bottom-left";
  const legendLeft = corner === "bottom-left" ? area.left + 10 : area.right - 10 - legendWidth;
  const legendTop = corner === "bottom-left" ? area.bottom - 10 - legendHeight : area.top + 10;
  const legend = {
    left: legendLeft,
    top: legendTop,
    width: legendWidth,
    height: legendHeight,
    rows: plot.series.map((_, k) => legendTop + 12 + k * rowHeight),
  };
  return { width, height, area, xRange, yRange, xTicks, yTicks, legend, px, py };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

const AXIS = "#333333", GRID = "#dddddd";

/**
 * The plot as an SVG document.
 *
 * @example
 * ```ts
 * import { renderSvg } from "./plot.ts";
 * const svg = renderSvg({ title: "Accuracy", xLabel: "radius", yLabel: "accuracy (%)",
 *   series: [{ label: "KD", x: [0, 0.1], y: [99, 40], color: "#d62728", marker: "circle" }] });
 * ```
 */
export function renderSvg(plot: LinePlot): string {
  const l = layoutPlot(plot);
  const { area } = l;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" ` +
    `viewBox="0 0 ${l.width} ${l.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${l.width}" height="${l.height}" fill="#ffffff"/>`,
  ];
  for (const t of l.yTicks) {
    const y = f(l.py(t.value));
    out.push(`<line x1="${area.left}" y1="${y}" x2="${area.right}" y2="${y}" stroke="${GRID}"/>`);
    out.push(
      `<text x="${area.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        escapeXml(t.label)
      }</text>`,
    );
  }
  for (const t of l.xTicks) {
    const x = f(l.px(t.value));
    out.push(
      `<line x1="${x}" y1="${area.bottom}" x2="${x}" y2="${area.bottom + 5}" stroke="${AXIS}"/>`,
    );
    out.push(
      `<text x="${x}" y="${area.bottom + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  out.push(
    `<rect x="${area.left}" y="${area.top}" width="${area.right - area.left}" height="${
      area.bottom - area.top
    }" ` +
      `fill="none" stroke="${AXIS}"/>`,
    `<text x="${l.width / 2}" y="22" text-anchor="middle" font-size="15">${
      escapeXml(plot.title)
    }</text>`,
    `<text x="${(area.left + area.right) / 2}" y="${l.height - 14}" text-anchor="middle">${
      escapeXml(plot.xLabel)
    }</text>`,
    `<text x="18" y="${(area.top + area.bottom) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 18 ${(area.top + area.bottom) / 2})">${escapeXml(plot.yLabel)}</text>`,
  );
  for (const s of plot.series) {
    const points = s.x.map((x, i) => `${f(l.px(x))},${f(l.py(s.y[i]))}`).join(" ");
    out.push(
      `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"` +
        `${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    for (let i = 0; i < s.x.length; i++) {
      out.push(svgMarker(s.marker, l.px(s.x[i]), l.py(s.y[i]), s.color));
    }
  }
  const lg = l.legend;
  out.push(
    `<rect x="${lg.left}" y="${lg.top}" width="${lg.width}" height="${lg.height}" fill="#ffffff" stroke="${GRID}"/>`,
  );
  plot.series.forEach((s, k) => {
    const y = lg.rows[k], x = lg.left + 8;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${s.color}" stroke-width="2"` +
        `${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      svgMarker(s.marker, x + 14, y, s.color),
      `<text x="${x + 36}" y="${y}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function svgMarker(marker: Marker | undefined, x: number, y: number, color: string): string {
  if (marker === "circle") {
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${color}"/>`;
  }
  if (marker === "square") {
    return `<rect x="${(x - 4).toFixed(1)}" y="${
      (y - 4).toFixed(1)
    }" width="8" height="8" fill="${color}"/>`;
  }
  return "";
}

function canvasMarker(
  c: Canvas,
  marker: Marker | undefined,
  x: number,
  y: number,
  color: string,
): void {
  if (marker === "circle") c.disc(x, y, 4, color);
  else if (marker === "square") c.fillRect(x - 4, y - 4, 9, 9, color);
}

/**
 * The plot rasterised into an RGBA canvas (same layout as {@link renderSvg}; bitmap text).
 *
 * @example
 * ```ts
 * import { rasterizePlot } from "./plot.ts";
 * const canvas = rasterizePlot({ title: "t", xLabel: "x", yLabel: "y",
 *   series: [{ label: "a", x: [0, 1], y: [1, 2], color: "#1f77b4" }] });
 * canvas.rgba.length; // 640 * 420 * 4
 * ```
 */
export function rasterizePlot(plot: LinePlot): Canvas {
  const l = layoutPlot(plot);
  const { area } = l;
  const c = new Canvas(l.width, l.height, "#ffffff");
  for (const t of l.yTicks) {
    const y = Math.round(l.py(t.value));
    c.line(area.left, y, area.right, y, GRID);
    c.text(area.left - 6, y - 3, t.label, AXIS, { anchor: "end" });
  }
  for (const t of l.xTicks) {
    const x = Math.round(l.px(t.value));
    c.line(x, area.bottom, x, area.bottom + 5, AXIS);
    c.text(x, area.bottom + 10, t.label, AXIS, { anchor: "middle" });
  }
  c.strokeRect(area.left, area.top, area.right - area.left + 1, area.bottom - area.top + 1, AXIS);
  // Titles too wide for the doubled font fall back to the single-size one.
  const titleScale = textWidth(plot.title) * 2 <= l.width - 20 ? 2 : 1;
  c.text(l.width / 2, titleScale === 2 ? 10 : 14, plot.title, AXIS, {
    scale: titleScale,
    anchor: "middle",
  });
  c.text((area.left + area.right) / 2, l.height - 22, plot.xLabel, AXIS, {
    scale: 2,
    anchor: "middle",
  });
  c.text(8, (area.top + area.bottom) / 2, plot.yLabel, AXIS, {
    scale: 2,
    anchor: "middle",
    vertical: true,
  });
  for (const s of plot.series) {
    for (let i = 1; i < s.x.length; i++) {
      c.line(
        l.px(s.x[i - 1]),
        l.py(s.y[i - 1]),
        l.px(s.x[i]),
        l.py(s.y[i]),
        s.color,
        2,
        s.dashed ? [6, 4] : undefined,
      );
    }
    for (let i = 0; i < s.x.length; i++) {
      canvasMarker(c, s.marker, l.px(s.x[i]), l.py(s.y[i]), s.color);
    }
  }
  const lg = l.legend;
  c.fillRect(lg.left, lg.top, lg.width, lg.height, "#ffffff");
  c.strokeRect(lg.left, lg.top, lg.width, lg.height, GRID);
  plot.series.forEach((s, k) => {
    const y = lg.rows[k], x = lg.left + 8;
    c.line(x, y, x + 28, y, s.color, 2, s.dashed ? [6, 4] : undefined);
    canvasMarker(c, s.marker, x + 14, y, s.color);
    c.text(x + 36, y - 3, s.label, AXIS);
  });
  return c;
}

/**
 * The plot as PNG bytes ({@link rasterizePlot} + `png.ts`).
 *
 * @example
 * ```ts
 * import { renderPng } from "./plot.ts";
 * const png = renderPng({ title: "t", xLabel: "x", yLabel: "y",
 *   series: [{ label: "a", x: [0, 1], y: [1, 2], color: "#1f77b4" }] });
 * ```
 */
export function renderPng(plot: LinePlot): Uint8Array {
  const c = rasterizePlot(plot);
  return encodePng(c.width, c.height, c.rgba);
}
