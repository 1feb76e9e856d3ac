// Adam with global-norm gradient clipping (src/core/model/adam.ts), against updates worked by hand.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, ADAM_DEFAULTS } from '../../../src/core/model/adam';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Run Adam on x = [1, -2] with the given gradients; returns x and the reported norm after each step. */
async function steps(gradients: number[][], gradClip: number): Promise<{ x: number[]; gradNorm: number }[]> {
  const x = tf.variable(tf.tensor1d([1, -2]));
  const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip });
  const out: { x: number[]; gradNorm: number }[] = [];
  try {
    for (const g of gradients) {
      const grad = tf.tensor1d(g);
      const gradNorm = await adam.apply(new Map([['x', x]]), { x: grad });
      grad.dispose();
      out.push({ x: Array.from(x.dataSync()), gradNorm });
    }
  } finally {
    adam.dispose();
    x.dispose();
  }
  return out;
}

describe('Adam', () => {
  it('uses beta1 .9, beta2 .999 and epsilon 1e-8 by default', () => {
    expect(ADAM_DEFAULTS).toEqual({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  });

  it('takes one and two bias-corrected steps as computed by hand', async () => {
    // lr .1, x0 = [1, -2], g1 = [.5, -.2], g2 = [.1, .3], no clipping.
    // Step 1: m = .1 g1 = [.05, -.02], v = .001 g1^2 = [.00025, .00004];
    //   m^ = m / .1 = [.5, -.2], v^ = v / .001 = [.25, .04], sqrt v^ = [.5, .2]
    //   x1 = x0 - .1 * [.5 / .5, -.2 / .2] = [.9, -1.9]
    // Step 2: m = .9 [.05, -.02] + .1 [.1, .3] = [.055, .012]
    //   v = .999 [.00025, .00004] + .001 [.01, .09] = [.00025975, .00012996]
    //   m^ = m / (1 - .81) = [.2894737, .0631579]; v^ = v / (1 - .998001) = [.1299400, .0650125]
    //   sqrt v^ = [.3604719, .2549755]; steps .1 * [.8030410, .2477019]
    //   x2 = [.9 - .0803041, -1.9 - .0247702] = [.8196959, -1.9247702]
    const [first, second] = await steps(
      [
        [0.5, -0.2],
        [0.1, 0.3],
      ],
      Infinity,
    );
    expect(first.x[0]).toBeCloseTo(0.9, 6);
    expect(first.x[1]).toBeCloseTo(-1.9, 6);
    expect(second.x[0]).toBeCloseTo(0.8196959, 6);
    expect(second.x[1]).toBeCloseTo(-1.9247702, 6);
    // norms before clipping: sqrt(.25 + .04) = .5385165; sqrt(.01 + .09) = .3162278
    expect(first.gradNorm).toBeCloseTo(0.5385165, 6);
    expect(second.gradNorm).toBeCloseTo(0.3162278, 6);
  });

  it('clips the gradient to the global norm before the update, and reports the norm before clipping', async () => {
    // g1 = [3, 4]: norm 5 > clip 1, scaled to [.6, .8]; g2 = [.3, -.4]: norm .5, left alone.
    // Step 1: m = [.06, .08], v = [.00036, .00064]; x1 = [1 - .1, -2 - .1] = [.9, -2.1]
    //   (the first Adam step is lr * sign(g) whatever the scale; the second step shows the scale)
    // Step 2: m = .9 [.06, .08] + .1 [.3, -.4] = [.084, .032]
    //   v = .999 [.00036, .00064] + .001 [.09, .16] = [.00044964, .00079936]
    //   m^ = m / .19 = [.4421053, .1684211]; v^ = v / .001999 = [.2249325, .3998799]
    //   sqrt v^ = [.4742705, .6323606]; steps .1 * [.9321822, .2663366]
    //   x2 = [.9 - .0932182, -2.1 - .0266337] = [.8067818, -2.1266337]
    // Unclipped, step 2 would be m = [.3, .32], v = [.009081, .016144], x2 = [.8259189, -2.1592649].
    const [first, second] = await steps(
      [
        [3, 4],
        [0.3, -0.4],
      ],
      1,
    );
    expect(first.gradNorm).toBeCloseTo(5, 5);
    expect(first.x[0]).toBeCloseTo(0.9, 6);
    expect(first.x[1]).toBeCloseTo(-2.1, 6);
    expect(second.gradNorm).toBeCloseTo(0.5, 6);
    expect(second.x[0]).toBeCloseTo(0.8067818, 5);
    expect(second.x[1]).toBeCloseTo(-2.1266337, 5);
  });

  it('computes the norm over every gradient together', async () => {
    // a = [3], b = [4]: global norm 5 (each alone would be 3 and 4)
    const a = tf.variable(tf.tensor1d([0]));
    const b = tf.variable(tf.tensor1d([0]));
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: 1 });
    const grads = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
    expect(await adam.apply(new Map([['a', a], ['b', b]]), grads)).toBeCloseTo(5, 5);
    // the gradients it was given are still usable
    expect(Array.from(grads.a.dataSync())).toEqual([3]);
    tf.dispose([a, b, grads.a, grads.b]);
    adam.dispose();
  });

  it('leaves a variable without a gradient unchanged', async () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([1, 1]));
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: Infinity });
    const grad = tf.tensor1d([1, -1]);
    await adam.apply(new Map([['a', a], ['b', b]]), { a: grad });
    expect(Array.from(b.dataSync())).toEqual([1, 1]);
    // a moved by lr * sign(g): [1 - .1, 1 + .1]
    expect(a.dataSync()[0]).toBeCloseTo(0.9, 6);
    expect(a.dataSync()[1]).toBeCloseTo(1.1, 6);
    tf.dispose([a, b, grad]);
    adam.dispose();
  });

  /** A variable and its gradient, made without leaving tf.variable's initial tensor behind. */
  function variableAndGradient(): { x: tf.Variable; grad: tf.Tensor } {
    const initial = tf.zeros([3]);
    const x = tf.variable(initial);
    initial.dispose();
    return { x, grad: tf.ones([3]) };
  }

  it('leaves no tensor behind per step after the first', async () => {
    const { x, grad } = variableAndGradient();
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: 1 });
    await adam.apply(new Map([['x', x]]), { x: grad });
    const afterFirst = tf.memory().numTensors;
    await adam.apply(new Map([['x', x]]), { x: grad });
    await adam.apply(new Map([['x', x]]), { x: grad });
    expect(tf.memory().numTensors).toBe(afterFirst);
    adam.dispose();
    tf.dispose([x, grad]);
  });

  // BUG (src/core/model/adam.ts, momentsOf): tf.variable(tf.zerosLike(variable), false) keeps each
  // zerosLike tensor alive next to its moment variable and nothing disposes it, so every optimiser
  // leaks 2 tensors per variable that dispose() cannot free (here 2 for one variable).
  it('frees everything it made on dispose', async () => {
    const before = tf.memory().numTensors;
    const { x, grad } = variableAndGradient();
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: 1 });
    await adam.apply(new Map([['x', x]]), { x: grad });
    adam.dispose();
    tf.dispose([x, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
