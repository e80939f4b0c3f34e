/**
 * The IDX file format of (Fashion-)MNIST, optionally gzip-compressed.
 * @module
 */

/** A parsed IDX file: unsigned byte data and its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Gunzips `bytes` if they start with the gzip magic (1f 8b), else returns them as they are.
 *
 * @example
 * ```ts
 * import { maybeGunzip } from "./idx.ts";
 * const raw = await maybeGunzip(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0])); // unchanged
 * ```
 */
export async function maybeGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Parses an IDX file of unsigned bytes (type 0x08): magic `00 00 08 ndim`, `ndim` big-endian
 * uint32 dimensions, then the data.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const { dims, data } = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])); // [2], [7, 9]
 * ```
 */
export function parseIdx(bytes: Uint8Array, what = "IDX file"): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${what}: not an IDX file (bad magic number)`);
  }
  if (bytes[2] !== 0x08) {
    throw new Error(
      `${what}: IDX data type 0x${
        bytes[2].toString(16)
      } is not supported (only 0x08, unsigned byte)`,
    );
  }
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * ndim) throw new Error(`${what}: truncated header`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (bytes.length - start !== count) {
    throw new Error(
      `${what}: header promises ${count} bytes of data [${dims}], file has ${bytes.length - start}`,
    );
  }
  return { dims, data: bytes.subarray(start) };
}

/**
 * Reads and parses a (gzipped) IDX file.
 *
 * @example
 * ```ts
 * import { readIdx } from "./idx.ts";
 * // A 1-D uint8 IDX file of 3 labels (the real ones: /usr/share/datasets/fashion-mnist/*.gz).
 * const path = await Deno.makeTempFile({ suffix: "-labels-idx1-ubyte" });
 * await Deno.writeFile(path, new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 5, 6, 7]));
 * const { dims, data } = await readIdx(path);
 * console.log(dims, data); // [ 3 ] Uint8Array(3) [ 5, 6, 7 ]
 * ```
 */
export async function readIdx(path: string): Promise<IdxArray> {
  return parseIdx(await maybeGunzip(await Deno.readFile(path)), path);
}
