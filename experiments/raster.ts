/**
 * An RGBA pixel canvas with the few primitives a line plot needs: rectangles, thick (optionally
 * dashed) lines, disc and square markers, and bitmap text (`font.ts`), horizontal or rotated.
 * @module
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows, textWidth } from "./font.ts";

/** A colour as `[r, g, b, a]`, each 0..255. */
export type Rgba = [number, number, number, number];

/**
 * Parses `#rrggbb` (opaque) or `#rrggbbaa`.
 *
 * @example
 * ```ts
 * import { parseColor } from "./raster.ts";
 * parseColor("#ff8000"); // [255, 128, 0, 255]
 * ```
 */
export function parseColor(hex: string): Rgba {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(hex);
  if (!m) throw new Error(`colour must be #rrggbb or #rrggbbaa; got '${hex}'`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255, m[2] ? parseInt(m[2], 16) : 255];
}

/** Where text is anchored horizontally (as SVG's `text-anchor`). */
export type TextAnchor = "start" | "middle" | "end";

/**
 * An RGBA image, rows top to bottom, drawn on with simple primitives (no anti-aliasing).
 *
 * @example
 * ```ts
 * import { Canvas } from "./raster.ts";
 * const c = new Canvas(40, 20, "#ffffff");
 * c.line(0, 0, 39, 19, "#000000", 2);
 * c.text(2, 2, "OK", "#ff0000");
 * c.rgba.length; // 40 * 20 * 4
 * ```
 */
export class Canvas {
  /** The pixels, `width * height * 4` bytes. */
  readonly rgba: Uint8Array;

  constructor(readonly width: number, readonly height: number, background = "#ffffff") {
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
      throw new Error(`canvas size must be integers >= 1; got ${width}x${height}`);
    }
    this.rgba = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Blends one pixel (source-over), ignoring points outside the canvas. */
  setPixel(x: number, y: number, color: Rgba): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    const a = color[3] / 255;
    for (let k = 0; k < 3; k++) {
      this.rgba[i + k] = Math.round(color[k] * a + this.rgba[i + k] * (1 - a));
    }
    this.rgba[i + 3] = Math.max(this.rgba[i + 3], color[3]);
  }

  /** Fills the rectangle with corner (x, y), size w x h. */
  fillRect(x: number, y: number, w: number, h: number, color: string): void {
    const c = parseColor(color);
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)),
      y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.setPixel(xx, yy, c);
  }

  /** Outline of a rectangle, `thickness` pixels wide. */
  strokeRect(x: number, y: number, w: number, h: number, color: string, thickness = 1): void {
    this.fillRect(x, y, w, thickness, color);
    this.fillRect(x, y + h - thickness, w, thickness, color);
    this.fillRect(x, y, thickness, h, color);
    this.fillRect(x + w - thickness, y, thickness, h, color);
  }

  /**
   * A line of the given thickness (a square brush stepped along it); `dash` = [on, off] lengths
   * in pixels makes it dashed.
   */
  line(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    color: string,
    thickness = 1,
    dash?: [number, number],
  ): void {
    const c = parseColor(color);
    const length = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(length * 2));
    const half = (thickness - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      const along = (s / steps) * length;
      if (dash && along % (dash[0] + dash[1]) >= dash[0]) continue;
      const px = x0 + (x1 - x0) * (s / steps), py = y0 + (y1 - y0) * (s / steps);
      for (let dy = -half; dy <= half; dy++) {
        for (let dx = -half; dx <= half; dx++) this.setPixel(px + dx, py + dy, c);
      }
    }
  }

  /** A filled disc of radius `r` centred at (cx, cy). */
  disc(cx: number, cy: number, r: number, color: string): void {
    const c = parseColor(color);
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) this.setPixel(x, y, c);
      }
    }
  }

  /**
   * Bitmap text with its top-left (or, with `anchor`, top-centre / top-right) at (x, y), each
   * font pixel drawn as a `scale` x `scale` block. `vertical` rotates it 90° counter-clockwise
   * (reading upwards), anchored along the vertical axis.
   */
  text(
    x: number,
    y: number,
    text: string,
    color: string,
    options: { scale?: number; anchor?: TextAnchor; vertical?: boolean } = {},
  ): void {
    const scale = options.scale ?? 1;
    const c = parseColor(color);
    const w = textWidth(text) * scale;
    const shift = options.anchor === "middle" ? w / 2 : options.anchor === "end" ? w : 0;
    for (let i = 0; i < text.length; i++) {
      const rows = glyphRows(text[i]);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!((rows[gy] >> (GLYPH_WIDTH - 1 - gx)) & 1)) continue;
          const u = (i * (GLYPH_WIDTH + 1) + gx) * scale - shift; // along the text
          const v = gy * scale; // across the text
          for (let a = 0; a < scale; a++) {
            for (let b = 0; b < scale; b++) {
              if (options.vertical) this.setPixel(x + v + b, y - u - a, c);
              else this.setPixel(x + u + a, y + v + b, c);
            }
          }
        }
      }
    }
  }
}
