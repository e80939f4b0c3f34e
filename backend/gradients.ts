/**
 * Gradients that are correct to second order.
 *
 * tfjs 4.22 records the tape entry that clones a kernel's *saved outputs* before the kernel's own
 * entry, so a nested `tf.grad` (the parameter gradient of an input gradient, as KDIGA needs)
 * silently drops every path through those saved outputs (tfjs issue #3252). Exp, Sigmoid, Tanh,
 * Softmax, Elu, Pow, Max and Min save outputs (LogSoftmax too, but no backend has that kernel:
 * `tf.logSoftmax` is a customGrad op; use `losses/cross_entropy.ts`). We re-register their gradients so they
 * save only inputs and recompute what they need inside the gradient function, which is then taped
 * like any other computation. Comparison ops get a zero gradient (tfjs has none), because the
 * masks of Max/Relu6/ClipByValue put them on the path of a second backward pass.
 *
 * Gradients tfjs lacks entirely and our models need to second order are added too:
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput/Filter and AvgPoolGrad.
 *
 * The fix uses only the public `registerGradient` API; `tests/gradients_test.ts` checks every
 * building block against finite differences, and asserts that no gradient our models use saves
 * outputs, so a tfjs upgrade that changes this fails loudly.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: any) => Record<string, () => tf.Tensor>;

/** Sums `grad` over the axes that broadcasting added or stretched, so it has `shape`. */
function reduceToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) {
    return grad;
  }
  const offset = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < offset || (shape[i - offset] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(grad, axes, true) : grad;
  return tf.reshape(summed, shape);
}

function register(kernelName: string, inputsToSave: string[], gradFunc: GradFunc): void {
  tf.registerGradient({ kernelName, inputsToSave, gradFunc: gradFunc as any });
}

function zeroGradient(kernelName: string, inputs: string[]): void {
  register(kernelName, inputs, (_dy, saved) => {
    const out: Record<string, () => tf.Tensor> = {};
    inputs.forEach((name, i) => {
      out[name] = () => tf.cast(tf.zerosLike(saved[i]), "float32");
    });
    return out;
  });
}

/** The kernels whose stock tfjs gradient saves outputs; all are re-registered here. */
export const OUTPUT_SAVING_KERNELS_REPLACED: readonly string[] = [
  "Exp",
  "Sigmoid",
  "Tanh",
  "Softmax",
  "Elu",
  "Pow",
  "Max",
  "Min",
];

let installed = false;

/**
 * Registers tfjs' stock gradients, then replaces those that are wrong to second order and adds
 * the second-order gradients tfjs lacks. Idempotent; `useBackend` calls it.
 *
 * tfjs-core's own bundles register no gradients at all: the stock gradient table ships inside
 * the `@tensorflow/tfjs` union package, whose import registers it in tfjs' global registry.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { installSecondOrderGradients } from "./gradients.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("cpu");
 * await installSecondOrderGradients(); // idempotent: useBackend has installed them already
 * // d/dx of (d/dx exp(x)) is exp(x); stock tfjs 4.22 returns 0 here.
 * const g2 = tf.grad((x: tf.Tensor) => tf.grad((z: tf.Tensor) => tf.exp(z).sum())(x).sum());
 * console.log(g2(tf.scalar(0)).dataSync()[0]); // 1
 * ```
 */
export async function installSecondOrderGradients(): Promise<void> {
  if (installed) return;
  await import("@tensorflow/tfjs");
  installed = true;

  register("Exp", ["x"], (dy, [x]) => ({ x: () => tf.mul(dy, tf.exp(x)) }));
  register("Sigmoid", ["x"], (dy, [x]) => ({
    x: () => {
      const s = tf.sigmoid(x);
      return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
    },
  }));
  register("Tanh", ["x"], (dy, [x]) => ({
    x: () => tf.mul(dy, tf.sub(1, tf.square(tf.tanh(x)))),
  }));
  register("Softmax", ["logits"], (dy, [logits], attrs) => ({
    logits: () => {
      const y = tf.softmax(logits, attrs.dim);
      const dyTimesY = tf.mul(dy, y);
      return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [attrs.dim], true), y));
    },
  }));
  register("Elu", ["x"], (dy, [x]) => ({
    x: () => tf.where(tf.greater(x, 0), dy, tf.mul(dy, tf.exp(tf.minimum(x, 0)))),
  }));
  register("Pow", ["a", "b"], (dy, [a, b]) => ({
    a: () => {
      const da = tf.mul(dy, tf.mul(tf.cast(b, "float32"), tf.pow(a, tf.sub(b, 1))));
      return reduceToShape(da, a.shape);
    },
    b: () => {
      const positive = tf.greater(a, 0);
      const logA = tf.where(positive, tf.log(tf.where(positive, a, tf.onesLike(a))), tf.zerosLike(a));
      return reduceToShape(tf.mul(dy, tf.mul(tf.pow(a, b), logA)), b.shape);
    },
  }));
  for (const [name, reduce] of [["Max", tf.max], ["Min", tf.min]] as const) {
    register(name, ["x"], (dy, [x], attrs) => ({
      x: () => {
        // Max names its axes `reductionIndices`, Min names them `axis`.
        const axes = tf.util.parseAxisParam(attrs.reductionIndices ?? attrs.axis, x.shape);
        const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const y = tf.reshape(reduce(x, axes, true), keptShape);
        return tf.mul(tf.reshape(dy, keptShape), tf.cast(tf.equal(x, y), "float32"));
      },
    }));
  }

  // Sum and Mean spread dy back over the reduced axes. The stock gradients multiply by
  // tf.ones(x.shape), a tensor built in JavaScript and copied in: on wasm that made each call
  // ~20 ms on a [128, 14, 14, 48] batch-norm input, against 0.5 ms for a broadcast Add onto
  // zerosLike(x) (a kernel fill).
  for (const [name, mean] of [["Sum", false], ["Mean", true]] as const) {
    register(name, ["x"], (dy, [x], attrs) => ({
      x: () => {
        const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
        const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const count = axes.reduce((n, a) => n * x.shape[a], 1);
        const spread = mean ? tf.div(tf.reshape(dy, kept), count) : tf.reshape(dy, kept);
        return tf.add(tf.zerosLike(x), spread);
      },
    }));
  }

  // ReLU masks from Step, which returns float32 directly. The stock Relu6 gradient builds its
  // mask from LessEqual, Step, LogicalAnd and a bool->float32 Cast, ~20x slower on wasm than two
  // Steps (measured: 4.4 ms per LessEqual on a [128, 14, 14, 48] tensor). At x = 6 the gradient is
  // 0, as in PyTorch's hardtanh backward (stock tfjs: 1); both are valid subgradients.
  register("Relu", ["x"], (dy, [x]) => ({ x: () => tf.mul(dy, tf.step(x)) }));
  register("Relu6", ["x"], (dy, [x]) => ({
    x: () => tf.mul(dy, tf.mul(tf.step(x), tf.step(tf.sub(6, x)))),
  }));

  for (const name of ["Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"]) {
    zeroGradient(name, ["a", "b"]);
  }
  zeroGradient("LogicalAnd", ["a", "b"]);
  zeroGradient("LogicalOr", ["a", "b"]);
  zeroGradient("LogicalNot", ["x"]);
  zeroGradient("IsNan", ["x"]);

  // dW = Conv2DBackpropFilter(x, dy) is bilinear in (x, dy).
  register("Conv2DBackpropFilter", ["x", "dy"], (ddw, [x, dy], attrs) => ({
    x: () =>
      tf.conv2dTranspose(
        ddw as tf.Tensor4D,
        dy as tf.Tensor4D,
        x.shape as [number, number, number, number],
        attrs.strides,
        attrs.pad,
        attrs.dimRoundingMode,
      ),
    dy: () =>
      tf.conv2d(
        x as tf.Tensor4D,
        ddw as tf.Tensor4D,
        attrs.strides,
        attrs.pad,
        attrs.dataFormat,
        attrs.dilations,
        attrs.dimRoundingMode,
      ),
  }));
  // dx = DepthwiseConv2dNativeBackpropInput(dy, W) is bilinear in (dy, W).
  register("DepthwiseConv2dNativeBackpropInput", ["dy", "filter"], (ddx, [dy, filter], attrs) => ({
    dy: () =>
      tf.depthwiseConv2d(
        ddx as tf.Tensor4D,
        filter as tf.Tensor4D,
        attrs.strides,
        attrs.pad,
        "NHWC",
        attrs.dilations,
        attrs.dimRoundingMode,
      ),
    filter: () =>
      tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x: ddx, dy }, {
        strides: attrs.strides,
        pad: attrs.pad,
        dilations: attrs.dilations,
        dimRoundingMode: attrs.dimRoundingMode,
        filterShape: filter.shape,
      }) as tf.Tensor,
  }));
  register("DepthwiseConv2dNativeBackpropFilter", ["x", "dy"], (ddw, [x, dy], attrs) => ({
    x: () =>
      tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy, filter: ddw }, {
        strides: attrs.strides,
        pad: attrs.pad,
        dilations: attrs.dilations,
        dimRoundingMode: attrs.dimRoundingMode,
        inputShape: x.shape,
      }) as tf.Tensor,
    dy: () =>
      tf.depthwiseConv2d(
        x as tf.Tensor4D,
        ddw as tf.Tensor4D,
        attrs.strides,
        attrs.pad,
        "NHWC",
        attrs.dilations,
        attrs.dimRoundingMode,
      ),
  }));
  // dx = AvgPoolGrad(dy) is linear in dy; its adjoint is the average pool itself.
  register("AvgPoolGrad", ["dy", "input"], (ddx, [, input], attrs) => ({
    dy: () =>
      tf.avgPool(ddx as tf.Tensor4D, attrs.filterSize, attrs.strides, attrs.pad, attrs.dimRoundingMode),
    input: () => tf.zerosLike(input),
  }));
}
