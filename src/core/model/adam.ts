// Adam with global-norm gradient clipping, written out so that its learning rate can change
// between steps and, on WebGPU, its update can run as two fused dispatches (fusedAdam.ts). Its
// moments are not saved with a checkpoint: a resumed run restarts them.

import * as tf from '@tensorflow/tfjs';
import { flatLayout, fusedAdamStep, momentsOfState, sameLayout, stateOfMoments, zeroState, type FlatLayout } from './fusedAdam';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Passed explicitly: tfjs's default follows the backend's float precision (1e-4 on WebGL f16). */
  epsilon: number;
  /** Global gradient-norm clip; Infinity disables it. */
  gradClip: number;
}

export const ADAM_DEFAULTS: Omit<AdamOptions, 'learningRate' | 'gradClip'> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export class Adam {
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  /** The fused update's state instead (fusedAdam.ts): parameters, m and v, flat. Never both. */
  private flat: { layout: FlatLayout; state: tf.Tensor } | null = null;
  /** Updates applied so far (bias correction uses it). */
  step = 0;

  constructor(public options: AdamOptions) {}

  /**
   * Clip the gradients to the global norm, then apply one Adam update. Returns the norm before
   * clipping. Disposes nothing it was given. `fused` (WebGPU only, fusedUpdate.ts decides)
   * updates every variable in two dispatches; the moments carry over between the two paths.
   */
  async apply(variables: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, fused = false): Promise<number> {
    if (fused) return this.applyFused(variables, grads);
    this.unflatten(variables);
    const { learningRate, beta1, beta2, epsilon, gradClip } = this.options;
    this.step += 1;
    // Chained adds, not tf.addN: WebGPU binds at most 8 storage buffers per shader and tfjs does
    // not split an addN over more inputs (the shader is rejected and the sum reads as 0).
    const norm = tf.tidy(() => tf.sqrt(Object.values(grads).map((g) => g.square().sum()).reduce((a, b) => a.add(b))));
    const gradNorm = (await norm.data())[0]; // async: WebGPU cannot read synchronously in a worker or Node
    norm.dispose();
    const scale = Number.isFinite(gradClip) && gradNorm > gradClip ? gradClip / (gradNorm + 1e-6) : 1;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    for (const [name, variable] of variables) {
      const grad = grads[name];
      if (!grad) continue;
      const state = this.momentsOf(name, variable);
      tf.tidy(() => {
        const g = grad.mul(scale);
        const m = state.m.mul(beta1).add(g.mul(1 - beta1));
        const v = state.v.mul(beta2).add(g.square().mul(1 - beta2));
        state.m.assign(m);
        state.v.assign(v);
        const update = m.div(correction1).div(v.div(correction2).sqrt().add(epsilon)).mul(learningRate);
        variable.assign(variable.sub(update));
      });
    }
    return gradNorm;
  }

  private async applyFused(variables: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): Promise<number> {
    const layout = flatLayout([...variables].filter(([name]) => grads[name] !== undefined));
    if (this.flat !== null && !sameLayout(this.flat.layout, layout)) this.unflatten(variables);
    if (this.flat === null) {
      const state = this.moments.size > 0 ? stateOfMoments(layout, this.moments) : zeroState(layout);
      this.disposeMoments();
      this.flat = { layout, state };
    }
    this.step += 1;
    const { state, gradNorm } = fusedAdamStep(layout, variables, grads, this.flat.state, this.options, this.step);
    this.flat.state = state;
    // Read once the whole update is recorded: the GPU never waits on this readback mid-update.
    const norm = (await gradNorm.data())[0];
    gradNorm.dispose();
    return norm;
  }

  /** Per-variable moments from the flat state, when the stock update follows a fused one. */
  private unflatten(variables: Map<string, tf.Variable>): void {
    if (this.flat === null) return;
    const shapes = new Map(this.flat.layout.names.map((name) => [name, variables.get(name)?.shape ?? [-1]]));
    for (const [name, { m, v }] of momentsOfState(this.flat.layout, this.flat.state, shapes)) {
      this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
      tf.dispose([m, v]); // the variables hold the data
    }
    this.flat.state.dispose();
    this.flat = null;
  }

  private momentsOf(name: string, variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let state = this.moments.get(name);
    if (!state) {
      state = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) }));
      this.moments.set(name, state);
    }
    return state;
  }

  dispose(): void {
    this.disposeMoments();
    this.flat?.state.dispose();
    this.flat = null;
  }

  private disposeMoments(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }
}
