import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { initPolicy, namedWeights } from '../../../src/core/model/transformer';
import { policyLoss, tokenLogprobsAndEntropy, type LossBatch } from '../../../src/core/tao/loss';
import { encode, VOCAB_SIZE } from '../../../src/core/tokenizer';
it('diag', async () => {
  await tf.setBackend('cpu');
  const policy = initPolicy({ vocabSize: VOCAB_SIZE, contextLength: 8, layers: 1, width: 8, heads: 2, mlpRatio: 2 }, 11);
  const variables = new Map(namedWeights(policy.weights));
  let k = 0;
  for (const variable of variables.values()) { k += 1; tf.tidy(() => variable.assign(variable.add(tf.randomNormal(variable.shape, 0, 0.3, 'float32', 100 + k)))); }
  const TOKENS = new Int32Array([...encode('<bos>3+4=<answer>7'), ...encode('<bos>9*9=<call>9')]);
  const current = tf.tidy(() => Array.from(tokenLogprobsAndEntropy(policy, tf.tensor2d(TOKENS, [2, 7], 'int32'), 1).logprob.dataSync()));
  const shifts = [0.05, -0.03, 0.02, -0.06, 0.04, 0.01, -0.02, 0.03, -0.04, 0.05, 0.02, -0.01];
  const batch: LossBatch = { tokens: TOKENS, B: 2, T: 6, oldLogprob: Float32Array.from(current.map((lp, i) => lp + shifts[i])),
    advantage: Float32Array.from([0.5, -1, 1.5, 0.3, -0.7, 1, -0.4, 0.9, -1.2, 0.6, 0.2, -0.5]),
    baseAdvantage: Float32Array.from([0.5, -1, 1.5, 0.3, -0.7, 1, -0.4, 0.9, -1.2, 0.6, 0.2, -0.5]),
    bonusEligible: Float32Array.from([0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0]),
    lossWeight: Float32Array.from([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0.5, 1]) };
  for (const coef of [null, 0.5]) {
  const loss = () => tf.tidy(() => policyLoss(policy, batch, { temperature: 1, clipLow: 0.2, clipHigh: 0.28, dualClip: 3, entropyCoef: 0.1, klCoef: 0, liveBonusCoef: coef }).loss);
  const v = variables.get('blocks.0.ln2Gain')!;
  const { grads } = tf.variableGrads(loss, [v]);
  const g = grads[v.name].dataSync();
  const orig = v.dataSync().slice();
  for (const idx of [0,1,2,3]) {
  const out: string[] = [];
  for (const e of [1e-2, 5e-3, 2e-3, 1e-3]) {
    const at = (d: number) => { const m = orig.slice(); m[idx] += d; tf.tidy(() => v.assign(tf.tensor(m, v.shape))); const r = tf.tidy(() => loss().dataSync()[0]); tf.tidy(() => v.assign(tf.tensor(orig, v.shape))); return r; };
    out.push(((at(e) - at(-e)) / (2 * e)).toFixed(5));
  }
  console.log(coef, idx, 'analytic', g[idx], out.join(' '));
  }
  }
});
