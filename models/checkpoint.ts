/**
 * Checkpoints as safetensors files: parameters, BatchNorm state, optimizer state and string
 * metadata in one file that PyTorch users can open (`safetensors.torch.load_file`).
 *
 * Tensor names are `params.<name>`, `state.<name>` and `optimizer.<name>` (e.g.
 * `optimizer.momentum.fc.weight`). `__metadata__` holds the caller's strings plus
 * `kdiga.format` and `kdiga.layout` (tfjs layouts: convolution weights [kh, kw, in, out], i.e.
 * PyTorch's `weight.permute(2, 3, 1, 0)`; dense weights [in, out], i.e. PyTorch's `weight.T`).
 * Files are written atomically (temp file + rename).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { writeFileAtomic } from "../util/atomic.ts";
import { createModel, variablesSignature } from "./registry.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
  type SafetensorsContents,
  type StoredDtype,
} from "./safetensors.ts";
import type { Model, NamedTensors, Variables } from "./types.ts";
import type { TensorSignature } from "./variables.ts";

/** The sections of a checkpoint, which prefix its tensor names. */
export const CHECKPOINT_SECTIONS = ["params", "state", "optimizer"] as const;
/** One of {@link CHECKPOINT_SECTIONS}. */
export type CheckpointSection = typeof CHECKPOINT_SECTIONS[number];

/** `__metadata__["kdiga.format"]` of files this module writes. */
export const CHECKPOINT_FORMAT = "kdiga-checkpoint/1";
const LAYOUT =
  "tfjs NHWC; conv weight [kh,kw,in,out] = torch weight.permute(2,3,1,0); depthwise [kh,kw,c,1]; " +
  "dense weight [in,out] = torch weight.T";
const RESERVED_PREFIX = "kdiga.";

/** What a checkpoint holds. */
export interface Checkpoint {
  params: NamedTensors;
  state: NamedTensors;
  /** Optimizer tensors by name, e.g. `momentum.fc.weight` (stored as `optimizer.momentum.fc.weight`). */
  optimizer: NamedTensors;
  /** The caller's strings (model name, config JSON, epoch, ...); `kdiga.*` keys are reserved. */
  metadata: Record<string, string>;
}

/** The tensors a loader expects per section; pass `model.init(0)` or `variablesSignature(model)`. */
export type CheckpointExpectation = Partial<
  Record<CheckpointSection, Record<string, TensorSignature>>
>;

function checkName(section: string, name: string): void {
  if (name.length === 0) throw new Error(`${section} tensor names must be non-empty`);
}

async function rawOf(name: string, t: tf.Tensor): Promise<RawTensor> {
  if (t.isDisposed) throw new Error(`tensor '${name}' has been disposed`);
  if (t.dtype !== "float32" && t.dtype !== "int32" && t.dtype !== "bool") {
    throw new Error(
      `tensor '${name}' has dtype ${t.dtype}: checkpoints store float32, int32 and bool`,
    );
  }
  const data = await t.data();
  return {
    dtype: t.dtype as StoredDtype,
    shape: [...t.shape],
    data: data as Float32Array | Int32Array | Uint8Array,
  };
}

/**
 * Serialises a checkpoint to safetensors bytes.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { encodeCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const bytes = await encodeCheckpoint({
 *   params: { "fc.weight": tf.ones([2, 2]) }, state: {}, optimizer: {}, metadata: { epoch: "1" },
 * });
 * ```
 */
export async function encodeCheckpoint(
  checkpoint: Partial<Checkpoint> & { params: NamedTensors },
): Promise<Uint8Array> {
  const metadata = checkpoint.metadata ?? {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith(RESERVED_PREFIX)) {
      throw new Error(
        `metadata key '${key}' is reserved (keys starting with '${RESERVED_PREFIX}' are kdiga's)`,
      );
    }
    if (typeof value !== "string") {
      throw new Error(`metadata '${key}' must be a string; got ${JSON.stringify(value)}`);
    }
  }
  const raw: Record<string, RawTensor> = {};
  for (const section of CHECKPOINT_SECTIONS) {
    for (const [name, t] of Object.entries(checkpoint[section] ?? {})) {
      checkName(section, name);
      raw[`${section}.${name}`] = await rawOf(`${section}.${name}`, t);
    }
  }
  return encodeSafetensors(raw, {
    ...metadata,
    "kdiga.format": CHECKPOINT_FORMAT,
    "kdiga.layout": LAYOUT,
  });
}

function describeNames(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

function checkAgainst(
  section: CheckpointSection,
  found: Record<string, RawTensor>,
  expected: Record<string, TensorSignature>,
  source: string,
): void {
  const missing = Object.keys(expected).filter((n) => !(n in found));
  if (missing.length > 0) {
    throw new Error(
      `${source}: missing ${section} tensor(s) ${
        describeNames(missing.map((n) => `${section}.${n}`))
      }`,
    );
  }
  const unexpected = Object.keys(found).filter((n) => !(n in expected));
  if (unexpected.length > 0) {
    throw new Error(
      `${source}: unexpected ${section} tensor(s) ${
        describeNames(unexpected.map((n) => `${section}.${n}`))
      } ` +
        `(the model has no such variables)`,
    );
  }
  for (const [name, want] of Object.entries(expected)) {
    const got = found[name];
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      throw new Error(
        `${source}: tensor '${section}.${name}' has shape [${got.shape}] but [${want.shape}] is expected`,
      );
    }
    if (got.dtype !== want.dtype) {
      throw new Error(
        `${source}: tensor '${section}.${name}' has dtype ${got.dtype} but ${want.dtype} is expected`,
      );
    }
  }
}

/**
 * Parses checkpoint bytes; with `expect`, checks each given section's names, shapes and dtypes
 * before any tensor is created. Errors name `source` and the tensor or field at fault.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const bytes = await encodeCheckpoint({ params: { w: tf.ones([2]) } });
 * const ckpt = decodeCheckpoint(bytes, { params: { w: { shape: [2], dtype: "float32" } } });
 * ```
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  expect: CheckpointExpectation = {},
  source = "checkpoint",
): Checkpoint {
  return checkpointOf(decodeSafetensors(bytes, source), expect, source);
}

function checkpointOf(
  { tensors, metadata }: SafetensorsContents,
  expect: CheckpointExpectation,
  source: string,
): Checkpoint {
  if (metadata["kdiga.format"] !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${source}: not a kdiga checkpoint (__metadata__ "kdiga.format" is ` +
        `${JSON.stringify(metadata["kdiga.format"] ?? null)}, expected "${CHECKPOINT_FORMAT}"); ` +
        `read plain safetensors files with decodeSafetensors`,
    );
  }
  const sections: Record<CheckpointSection, Record<string, RawTensor>> = {
    params: {},
    state: {},
    optimizer: {},
  };
  for (const [key, raw] of Object.entries(tensors)) {
    const dot = key.indexOf(".");
    const section = key.slice(0, dot) as CheckpointSection;
    if (dot < 1 || !CHECKPOINT_SECTIONS.includes(section) || dot === key.length - 1) {
      throw new Error(
        `${source}: unexpected tensor '${key}': names must start with ${
          CHECKPOINT_SECTIONS.map((s) => `'${s}.'`).join(", ")
        }`,
      );
    }
    sections[section][key.slice(dot + 1)] = raw;
  }
  for (const section of CHECKPOINT_SECTIONS) {
    const expected = expect[section];
    if (expected !== undefined) checkAgainst(section, sections[section], expected, source);
  }
  const userMetadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (!k.startsWith(RESERVED_PREFIX)) userMetadata[k] = v;
  }
  const out: Checkpoint = { params: {}, state: {}, optimizer: {}, metadata: userMetadata };
  for (const section of CHECKPOINT_SECTIONS) {
    for (const [name, raw] of Object.entries(sections[section])) {
      out[section][name] = tf.tensor(raw.data, raw.shape, raw.dtype);
    }
  }
  return out;
}

/**
 * Writes a checkpoint to `path` atomically.
 *
 * @example
 * ```ts
 * import { createModel } from "./registry.ts";
 * import { saveCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("small-cnn");
 * const { params, state } = model.init(0);
 * await saveCheckpoint("/tmp/kdiga-example.safetensors", {
 *   params, state, metadata: { model: model.name, config: JSON.stringify(model.config), epoch: "0" },
 * });
 * ```
 */
export async function saveCheckpoint(
  path: string,
  checkpoint: Partial<Checkpoint> & { params: NamedTensors },
): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(checkpoint));
}

/**
 * Reads a checkpoint from `path`, checking it against `expect` (see {@link decodeCheckpoint}).
 *
 * @example
 * ```ts
 * import { createModel, variablesSignature } from "./registry.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("small-cnn");
 * await saveCheckpoint("/tmp/kdiga-example.safetensors", model.init(0));
 * const ckpt = await loadCheckpoint("/tmp/kdiga-example.safetensors", variablesSignature(model));
 * ```
 */
export async function loadCheckpoint(
  path: string,
  expect: CheckpointExpectation = {},
): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  return decodeCheckpoint(bytes, expect, `checkpoint ${path}`);
}

/** Options of {@link saveModelCheckpoint}. */
export interface ModelCheckpointOptions {
  optimizer?: NamedTensors;
  epoch?: number;
  /** More strings to store (keys `model`, `config`, `epoch` are set from the model). */
  metadata?: Record<string, string>;
}

/**
 * Saves a model's variables with `model` (its registry name), `config` (JSON) and `epoch` in the
 * metadata, so {@link loadModelCheckpoint} can rebuild the model.
 *
 * @example
 * ```ts
 * import { createModel } from "./registry.ts";
 * import { saveModelCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("resnet-tiny");
 * await saveModelCheckpoint("/tmp/kdiga-resnet.safetensors", model, model.init(0), { epoch: 3 });
 * ```
 */
export async function saveModelCheckpoint(
  path: string,
  model: Model,
  variables: Variables,
  options: ModelCheckpointOptions = {},
): Promise<void> {
  const metadata: Record<string, string> = {
    ...options.metadata,
    model: model.name,
    config: JSON.stringify(model.config),
  };
  if (options.epoch !== undefined) {
    if (!Number.isInteger(options.epoch) || options.epoch < 0) {
      throw new Error(`epoch must be a non-negative integer; got ${options.epoch}`);
    }
    metadata.epoch = String(options.epoch);
  }
  await saveCheckpoint(path, {
    params: variables.params,
    state: variables.state,
    optimizer: options.optimizer ?? {},
    metadata,
  });
}

/** What {@link loadModelCheckpoint} returns. */
export interface LoadedModelCheckpoint {
  model: Model;
  variables: Variables;
  optimizer: NamedTensors;
  /** The stored epoch, or undefined if none was stored. */
  epoch: number | undefined;
  metadata: Record<string, string>;
}

/**
 * Rebuilds the model named in a checkpoint's metadata (via `createModel(model, config)`) and
 * loads its variables, checked against the model's own variable list.
 *
 * @example
 * ```ts
 * import { createModel } from "./registry.ts";
 * import { loadModelCheckpoint, saveModelCheckpoint } from "./checkpoint.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const saved = createModel("resnet-tiny");
 * await saveModelCheckpoint("/tmp/kdiga-resnet.safetensors", saved, saved.init(0), { epoch: 3 });
 * const { model, variables, epoch } = await loadModelCheckpoint("/tmp/kdiga-resnet.safetensors");
 * console.log(model.name, epoch); // resnet-tiny 3
 * ```
 */
export async function loadModelCheckpoint(path: string): Promise<LoadedModelCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  const source = `checkpoint ${path}`;
  const contents = decodeSafetensors(bytes, source);
  const metadata = contents.metadata;
  const name = metadata.model;
  if (name === undefined) throw new Error(`${source}: __metadata__ has no "model" entry`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(metadata.config ?? "{}");
  } catch (e) {
    throw new Error(`${source}: __metadata__ "config" is not valid JSON: ${(e as Error).message}`);
  }
  const model = createModel(name, config);
  const ckpt = checkpointOf(contents, variablesSignature(model), source);
  let epoch: number | undefined;
  if (ckpt.metadata.epoch !== undefined) {
    epoch = Number(ckpt.metadata.epoch);
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new Error(
        `${source}: __metadata__ "epoch" must be a non-negative integer; got "${ckpt.metadata.epoch}"`,
      );
    }
  }
  return {
    model,
    variables: { params: ckpt.params, state: ckpt.state },
    optimizer: ckpt.optimizer,
    epoch,
    metadata: ckpt.metadata,
  };
}
