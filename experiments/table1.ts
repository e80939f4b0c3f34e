/**
 * `deno task table1`: the paper's Table 1 — clean and 40-step PGD robust accuracy at 4 radii of
 * students of two teacher families: an adversarially trained ResNet-50-like CNN and a normally
 * trained ViT; ResNet-18/34/50/101 students from scratch (ST, KD, KDIGA) and a pre-trained ViT
 * (first trained normally, then fine-tuned by KDIGA from the CNN teacher: the starred row). The
 * teacher's accuracy is in brackets, as the paper prints it. Writes `results/table1.csv` and
 * `results/table1.md`. ImageNet cannot be loaded here: the defaults run on MNIST with small
 * models (`presets.ts`), `--preset paper` applies the paper's ImageNet training settings to
 * the chosen dataset.
 *
 * @example
 * ```ts
 * import { TABLE1 } from "./table1.ts";
 * TABLE1.attack; // "pgd"
 * ```
 * @module
 */
import { runTask } from "./cli.ts";
import { PAPER_TABLE1 } from "./paper_numbers.ts";
import {
  TRANSFER_ROW_KEYS,
  transferMain,
  transferOptions,
  type TransferTable,
} from "./transfer.ts";

/** Table 1: the task, the paper's numbers, PGD-40 (see the module example). */
export const TABLE1: TransferTable = {
  task: {
    name: "table1",
    summary:
      "Table 1: PGD-40 robust accuracy of ResNet/ViT students of an AT CNN and a ViT teacher (teacher in brackets)",
    options: transferOptions(TRANSFER_ROW_KEYS),
  },
  paper: PAPER_TABLE1,
  attack: "pgd",
};

if (import.meta.main) {
  Deno.exit(await runTask(TABLE1.task, Deno.args, (v) => transferMain(TABLE1, v)));
}
