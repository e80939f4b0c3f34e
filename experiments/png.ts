/**
 * A minimal PNG encoder for 8-bit RGBA images (colour type 6, no interlace), with the CRC-32
 * every chunk needs and `node:zlib` for the IDAT stream, so the plots need no dependency.
 * @module
 */
import { deflateSync } from "node:zlib";

/**
 * The 8 bytes every PNG file starts with.
 *
 * @example
 * ```ts
 * import { PNG_SIGNATURE } from "./png.ts";
 * PNG_SIGNATURE[1]; // 80 ("P")
 * ```
 */
export const PNG_SIGNATURE: Uint8Array = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (ISO 3309, the polynomial of PNG and zlib) of `bytes`.
 *
 * @example
 * ```ts
 * import { crc32 } from "./png.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes an RGBA image (`rgba.length === width * height * 4`, rows top to bottom) as PNG bytes.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const red = new Uint8Array([255, 0, 0, 255]);
 * const bytes = encodePng(1, 1, red); // a 1x1 red PNG
 * ```
 */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new Error(`PNG width and height must be integers >= 1; got ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(
      `RGBA buffer of a ${width}x${height} image must hold ${
        width * height * 4
      } bytes; got ${rgba.length}`,
    );
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, adaptive filtering, no interlace
  // Each scanline gets filter byte 0 (None): simple, and deflate still compresses flat plots well.
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [
    PNG_SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
