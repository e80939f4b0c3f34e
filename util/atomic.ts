/**
 * Atomic file writes: write a temp file beside the target, then rename over it, so a reader or
 * an interrupted run never sees a half-written checkpoint or result.
 * @module
 */
import { dirname } from "node:path";

/**
 * Writes `data` to `path` atomically (temp file in the same directory + rename). Creates the
 * directory if needed.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * await writeFileAtomic("/tmp/kdiga-example.txt", "hello");
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Whether `path` exists (any kind of file); false when it cannot be stat'ed.
 *
 * @example
 * ```ts
 * import { pathExists } from "./atomic.ts";
 * console.log(await pathExists("/nonexistent/kdiga")); // false
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
