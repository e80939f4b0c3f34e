/**
 * The safetensors file format (huggingface/safetensors), written and read byte for byte:
 * an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}, ...}` (space-padded to a multiple of 8, as the reference
 * writer does), then the raw little-endian tensor bytes, contiguous, in offset order. PyTorch
 * reads these files with `safetensors.torch.load_file`.
 *
 * Pure byte-level code, no tensors: `checkpoint.ts` maps tfjs tensors onto it.
 * @module
 */

/** The tfjs dtypes kdiga stores. */
export type StoredDtype = "float32" | "int32" | "bool";

/** One tensor's values, as they go to or come from a file. */
export interface RawTensor {
  dtype: StoredDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A decoded safetensors file. */
export interface SafetensorsContents {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

const TO_FILE: Record<StoredDtype, string> = { float32: "F32", int32: "I32", bool: "BOOL" };
const FROM_FILE: Record<string, StoredDtype> = { F32: "float32", I32: "int32", BOOL: "bool" };
/** Every dtype of the format, with its element size (so any valid file's layout can be checked). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
/** The reference implementation refuses headers above 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A copy of `bytes` with every 4-byte word reversed (little <-> big endian). */
function swapWords(bytes: Uint8Array): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    swapped[i] = bytes[i + 3];
    swapped[i + 1] = bytes[i + 2];
    swapped[i + 2] = bytes[i + 1];
    swapped[i + 3] = bytes[i];
  }
  return swapped;
}

/** The bytes of `data` in little-endian order (a swapped copy on big-endian hosts). */
function littleEndianBytes(data: Float32Array | Int32Array | Uint8Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1 ? bytes : swapWords(bytes);
}

/** Values of little-endian `raw` bytes (a fresh copy at offset 0, so aligned for 4-byte views). */
function typedArrayOf(dtype: StoredDtype, raw: Uint8Array): Float32Array | Int32Array | Uint8Array {
  if (dtype === "bool") return raw;
  const host = LITTLE_ENDIAN_HOST ? raw : swapWords(raw);
  const count = host.byteLength / 4;
  return dtype === "float32"
    ? new Float32Array(host.buffer, host.byteOffset, count)
    : new Int32Array(host.buffer, host.byteOffset, count);
}

/**
 * Serialises named tensors and string metadata to safetensors bytes. Tensors are laid out by
 * decreasing element size, then by name (as the reference writer), so every tensor's data is
 * aligned.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   { w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } },
 *   { epoch: "3" },
 * );
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      throw new Error(
        `metadata '${key}' must be a string; got ${typeof value} (${JSON.stringify(value)})`,
      );
    }
  }
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === "__metadata__") {
      throw new Error(`'__metadata__' is reserved and cannot name a tensor`);
    }
    const t = tensors[name];
    if (!(t.dtype in TO_FILE)) {
      throw new Error(
        `tensor '${name}' has dtype ${t.dtype}: safetensors storage supports float32, int32, bool`,
      );
    }
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`tensor '${name}' has an invalid shape [${t.shape}]`);
    }
    if (t.data.length !== elementCount(t.shape)) {
      throw new Error(
        `tensor '${name}' has ${t.data.length} values but shape [${t.shape}] needs ${
          elementCount(t.shape)
        }`,
      );
    }
  }
  names.sort((a, b) => {
    const size = tensors[b].data.BYTES_PER_ELEMENT - tensors[a].data.BYTES_PER_ELEMENT;
    return size !== 0 ? size : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const end = offset + t.data.byteLength;
    header[name] = { dtype: TO_FILE[t.dtype], shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const name of names) {
    const bytes = littleEndianBytes(tensors[name].data);
    out.set(bytes, position);
    position += bytes.length;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, value: unknown, source: string): HeaderEntry {
  const bad = (what: string) => new Error(`${source}: tensor '${name}': ${what}`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw bad(
      `header entry must be an object {dtype, shape, data_offsets}; got ${JSON.stringify(value)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    throw bad(
      `unknown dtype ${JSON.stringify(dtype)}; safetensors dtypes are ${
        Object.keys(DTYPE_BYTES).join(", ")
      }`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape must be a list of non-negative integers; got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    throw bad(
      `data_offsets must be [begin, end] with 0 <= begin <= end; got ${JSON.stringify(offsets)}`,
    );
  }
  const expected = elementCount(shape) * DTYPE_BYTES[dtype];
  if (offsets[1] - offsets[0] !== expected) {
    throw bad(
      `shape [${shape}] of ${dtype} needs ${expected} bytes but data_offsets [${offsets}] span ${
        offsets[1] - offsets[0]
      }`,
    );
  }
  return { name, dtype, shape, begin: offsets[0], end: offsets[1] };
}

/**
 * Parses safetensors bytes, checking everything the reference reader checks: the header length
 * fits the file, the header is a JSON object, each entry has a known dtype, a shape whose size
 * matches its byte span, and the spans tile the data exactly (contiguous, no gap, no overlap, no
 * trailing bytes). Errors name the file (`source`) and the tensor or field at fault.
 *
 * Only F32, I32 and BOOL tensors are decoded to values; a file with other dtypes is reported
 * as such.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "int32", shape: [1], data: new Int32Array([7]) } });
 * const { tensors } = decodeSafetensors(bytes); // tensors.w.data = Int32Array [7]
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "safetensors data",
): SafetensorsContents {
  if (bytes.length < 8) {
    throw new Error(
      `${source}: truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`,
    );
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(
    0,
    true,
  );
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new Error(
      `${source}: header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it ` +
        `(truncated file, or not safetensors)`,
    );
  }
  const n = Number(headerLength);
  if (n > MAX_HEADER_BYTES) {
    throw new Error(`${source}: header of ${n} bytes exceeds the 100 MB limit`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${source}: header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(
      `${source}: header must be a JSON object; got ${JSON.stringify(header)?.slice(0, 80)}`,
    );
  }
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new Error(
          `${source}: __metadata__ must be an object of strings; got ${JSON.stringify(value)}`,
        );
      }
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== "string") {
          throw new Error(
            `${source}: __metadata__ '${mk}' must be a string; got ${JSON.stringify(mv)}`,
          );
        }
        metadata[mk] = mv;
      }
      continue;
    }
    entries.push(parseEntry(key, value, source));
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  let previous = "";
  for (const e of entries) {
    if (e.end > dataLength) {
      throw new Error(
        `${source}: tensor '${e.name}' ends at byte ${e.end} of the data, which has only ${dataLength} bytes (truncated file)`,
      );
    }
    if (e.begin !== expectedBegin) {
      throw new Error(
        `${source}: tensor '${e.name}' starts at byte ${e.begin} but ` +
          (previous ? `tensor '${previous}' ends at ${expectedBegin}` : "the data starts at 0") +
          `: data must be contiguous without gaps or overlaps`,
      );
    }
    expectedBegin = e.end;
    previous = e.name;
  }
  if (expectedBegin !== dataLength) {
    throw new Error(
      `${source}: the tensors cover ${expectedBegin} bytes of data but ${dataLength} follow the header (trailing bytes)`,
    );
  }
  const tensors: Record<string, RawTensor> = {};
  for (const e of entries) {
    const dtype = FROM_FILE[e.dtype];
    if (dtype === undefined) {
      throw new Error(
        `${source}: tensor '${e.name}' has dtype ${e.dtype}; kdiga reads F32, I32 and BOOL`,
      );
    }
    const raw = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors[e.name] = { dtype, shape: e.shape, data: typedArrayOf(dtype, raw) };
  }
  return { tensors, metadata };
}
