/**
 * `deno task table2`: the paper's Table 2 — the rows of Table 1 the paper also attacks with
 * AutoAttack (ST ResNet-18 and ViT, KDIGA students of both teachers, the fine-tuned ViT*), at
 * the same 4 radii; the teacher's accuracy in brackets. Reuses Table 1's trained models from
 * their checkpoints (training them if absent). Writes `results/table2.csv` and
 * `results/table2.md`. The quick preset runs a reduced AutoAttack (fewer iterations, targets
 * and Square queries, on fewer points; see `presets.ts`); `--preset paper` the standard one.
 *
 * @example
 * ```ts
 * import { TABLE2 } from "./table2.ts";
 * TABLE2.attack; // "aa"
 * ```
 * @module
 */
import { runTask } from "./cli.ts";
import { PAPER_TABLE2 } from "./paper_numbers.ts";
import { transferMain, transferOptions, type TransferTable } from "./transfer.ts";

/**
 * The rows of Table 2.
 *
 * @example
 * ```ts
 * import { TABLE2_ROWS } from "./table2.ts";
 * TABLE2_ROWS.length; // 5
 * ```
 */
export const TABLE2_ROWS = [
  "resnet18-st",
  "vit-st",
  "vit-kdiga-resnet18",
  "cnn-kdiga-resnet18",
  "cnn-kdiga-vit-pretrained",
];

/** Table 2: the task, the paper's numbers, AutoAttack (see the module example). */
export const TABLE2: TransferTable = {
  task: {
    name: "table2",
    summary:
      "Table 2: AutoAttack robust accuracy of the ST and KDIGA rows of Table 1 (teacher in brackets)",
    options: transferOptions(TABLE2_ROWS),
  },
  paper: PAPER_TABLE2,
  attack: "aa",
};

if (import.meta.main) {
  Deno.exit(await runTask(TABLE2.task, Deno.args, (v) => transferMain(TABLE2, v)));
}
