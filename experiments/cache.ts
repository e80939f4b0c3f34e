/**
 * Result caching for resumable tasks: each computed row is stored as JSON beside the config
 * that produced it (written atomically), and reused only when the config matches exactly.
 * @module
 */
import { writeFileAtomic } from "./common.ts";

/**
 * JSON with object keys sorted at every level, so equal configs give equal text whatever the
 * order their keys were written in. `undefined` fields are dropped, as `JSON.stringify` does.
 *
 * @example
 * ```ts
 * import { stableStringify } from "./cache.ts";
 * stableStringify({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * A short hex digest (SHA-256, first `length` hex digits) of a config's stable JSON, for
 * directory and file names.
 *
 * @example
 * ```ts
 * import { configHash } from "./cache.ts";
 * const h = await configHash({ method: "kdiga", epochs: 3 }); // 12 hex digits
 * ```
 */
export async function configHash(config: unknown, length = 12): Promise<string> {
  const bytes = new TextEncoder().encode(stableStringify(config));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}

/** What {@link cachedResult} returns. */
export interface CachedResult<T> {
  value: T;
  /** True when the stored value was reused, false when it was computed now. */
  reused: boolean;
}

/**
 * The value stored at `path` if it was computed with the same `config`; otherwise computes it,
 * stores `{config, value}` atomically, and returns it. A missing, unreadable or differently
 * configured file is recomputed (and overwritten).
 *
 * @example
 * ```ts
 * import { cachedResult } from "./cache.ts";
 * const { value, reused } = await cachedResult("/tmp/kdiga-row.json", { eps: 0.1 }, async () => 42);
 * ```
 */
export async function cachedResult<T>(
  path: string,
  config: unknown,
  compute: () => Promise<T>,
): Promise<CachedResult<T>> {
  const want = stableStringify(config);
  try {
    const stored = JSON.parse(await Deno.readTextFile(path)) as { config?: unknown; value?: T };
    if (stored && "value" in stored && stableStringify(stored.config) === want) {
      return { value: stored.value as T, reused: true };
    }
  } catch {
    // Absent or unreadable: compute.
  }
  const value = await compute();
  await writeFileAtomic(path, JSON.stringify({ config: JSON.parse(want), value }, null, 1) + "\n");
  return { value, reused: false };
}
