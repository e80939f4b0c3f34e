/**
 * How large a toy ReLU net the exact certifier decides within a time budget. Run:
 * `node_modules/.bin/deno run -A bench/certifier_scale_bench.ts [inputs] [delta] [budgetSeconds]`
 * For hidden widths w = 8, 16, 32, ... (two hidden layers [w, w], 3 classes) it times one
 * exact decision and one exact minimum margin at a seeded point, and stops at the first width
 * whose exact minimum takes longer than the budget (default 60 s).
 * @module
 */
import { certifyRobustness, exactMinimumMargin } from "../theory/certifier.ts";
import { disposeToyMlp, initToyMlp } from "../theory/toy_mlp.ts";
import { seededRandom } from "../util/rng.ts";
import { useBackend } from "../backend/mod.ts";

if (import.meta.main) {
  await useBackend("cpu");
  const inputs = Number(Deno.args[0] ?? 2);
  const delta = Number(Deno.args[1] ?? 0.1);
  const budget = Number(Deno.args[2] ?? 60);
  const rand = seededRandom(1);
  for (let width = 8; width <= 256; width *= 2) {
    const net = initToyMlp([inputs, width, width, 3], { seed: width });
    const x = Array.from({ length: inputs }, () => 2 * rand() - 1);
    const options = { maxNodes: 5_000_000, maxHiddenNeurons: 4096 };
    let t0 = performance.now();
    const decided = certifyRobustness(net, x, delta, options);
    const decideSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const m = exactMinimumMargin(net, x, delta, options);
    const minSeconds = (performance.now() - t0) / 1000;
    console.log(
      `inputs ${inputs} hidden [${width}, ${width}] delta ${delta}: decide ${
        decideSeconds.toFixed(2)
      } s ` +
        `(${decided.nodes} nodes, robust ${decided.robust}); exact minimum ${
          minSeconds.toFixed(2)
        } s ` +
        `(${m.nodes} nodes, ${m.lps} LPs, min margin ${m.minMargin.toFixed(4)})`,
    );
    disposeToyMlp(net);
    if (minSeconds > budget) break;
  }
}
