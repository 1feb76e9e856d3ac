// Fork requests in the worker: the next-token distribution at a token of a shown trajectory,
// continuations sampled from there, and a scan of pass rates along the trajectory. Each request
// runs on a policy of its own, built from a weight snapshot and disposed when it is done, with its
// own tool environment and random streams: the trainer's weights, optimizer, environment and
// random streams are never touched, so training continues as if nothing had been asked.

import type { CheckpointManifest } from '../core/checkpoint';
import { deserializePolicy } from '../core/checkpoint';
import type { Config } from '../core/config';
import { ToolEnvironment } from '../core/environment';
import { isForkable, MAX_FORK_SAMPLES, passRate } from '../core/fork';
import { nextTokenDistribution, resampleFrom } from '../core/forkSampling';
import { disposePolicy, type Policy } from '../core/model/transformer';
import { Rng } from '../core/rng';
import { getTask } from '../core/tasks';
import type { ForkReply, ForkRequest, ForkWeights, FromWorker, WeightSnapshot } from './protocol';

/** Steps whose sampling weights are kept (a snapshot each: 0.4 MB at the tiny scale, 2 MB at the small). */
export const SAMPLING_WEIGHTS_KEPT = 8;

/** What a fork needs of the run. */
export interface ForkContext {
  config: Config;
  /** The layout of every snapshot (the run's starting checkpoint). */
  manifest: CheckpointManifest;
  /** The weights of the run's last completed step. */
  current: WeightSnapshot;
}

export class ForkRunner {
  /** Step -> the weights it sampled its trajectories with (those after the step before). */
  private readonly sampling = new Map<number, WeightSnapshot>();
  private readonly cancelled = new Set<number>();
  /** Bumped by `clear` (a new run): work for an older run posts nothing more. */
  private generation = 0;

  constructor(private readonly post: (message: FromWorker) => void) {}

  /** Keeps the weights `step` is about to sample with, for the most recent steps. */
  recordSampling(step: number, weights: WeightSnapshot): void {
    this.sampling.set(step, weights);
    for (const kept of this.sampling.keys()) {
      if (this.sampling.size <= SAMPLING_WEIGHTS_KEPT) break;
      this.sampling.delete(kept);
    }
  }

  /** A new run: its steps are not the old run's. */
  clear(): void {
    this.generation += 1;
    this.sampling.clear();
  }

  /** Stops scan `id` after the position in flight. */
  cancel(id: number): void {
    this.cancelled.add(id);
  }

  /** Which weights a request about `step` runs on: the ones the step sampled with while they are kept, else the current ones. */
  weightsFor(step: number, current: WeightSnapshot): { snapshot: WeightSnapshot; weights: ForkWeights } {
    const kept = this.sampling.get(step);
    if (kept) return { snapshot: kept, weights: { step: kept.step, sampledWith: true } };
    return { snapshot: current, weights: { step: current.step, sampledWith: current.step === step - 1 } };
  }

  /** Runs one request; every outcome, failures included, is a reply. */
  async run(request: ForkRequest, context: ForkContext): Promise<void> {
    const generation = this.generation;
    const reply = (message: ForkReply) => {
      if (generation === this.generation) this.post({ type: 'fork', reply: message });
    };
    const problem = requestProblem(request);
    if (problem) return reply({ id: request.id, kind: 'failed', message: problem });

    const { snapshot, weights } = this.weightsFor(request.step, context.current);
    let policy: Policy | null = null;
    try {
      policy = deserializePolicy(context.manifest, snapshot.bytes);
      const started = performance.now();
      const options = (seed: string) => ({
        temperature: request.temperature,
        maxToolCalls: context.config.maxToolCalls,
        environment: new ToolEnvironment(context.config.tool, request.flakyProbability, new Rng(request.seed).fork(`fork-environment:${seed}`), getTask(context.config.task).coldCalls),
        rng: new Rng(request.seed).fork(`fork:${seed}`),
      });
      switch (request.kind) {
        case 'distribution': {
          const distribution = await nextTokenDistribution(policy, request.source, request.position, request.temperature);
          reply({ id: request.id, kind: 'distribution', weights, position: request.position, distribution });
          break;
        }
        case 'resample': {
          const continuations = await resampleFrom(policy, request.source, request.position, request.samples, options(String(request.position)));
          reply({ id: request.id, kind: 'continuations', weights, position: request.position, continuations, seconds: (performance.now() - started) / 1000 });
          break;
        }
        case 'scan': {
          let done = 0;
          for (const position of request.positions) {
            if (this.cancelled.has(request.id) || generation !== this.generation) break;
            const { entropy } = await nextTokenDistribution(policy, request.source, position, request.temperature);
            const continuations = await resampleFrom(policy, request.source, position, request.samples, options(String(position)));
            const { passed, total } = passRate(continuations.map((continuation) => continuation.reward));
            done += 1;
            reply({ id: request.id, kind: 'scanPoint', weights, position, entropy, passed, total, done, of: request.positions.length });
          }
          reply({ id: request.id, kind: 'scanDone', weights, cancelled: done < request.positions.length, seconds: (performance.now() - started) / 1000 });
          break;
        }
      }
    } catch (error) {
      reply({ id: request.id, kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    } finally {
      this.cancelled.delete(request.id);
      if (policy) {
        try {
          disposePolicy(policy);
        } catch {
          // tensors of a lost device: nothing left to free
        }
      }
    }
  }
}

/** Why a request cannot run, in words; null when it can. */
function requestProblem(request: ForkRequest): string | null {
  const positions = request.kind === 'scan' ? request.positions : [request.position];
  const bad = positions.find((position) => !isForkable(request.source, position));
  if (bad !== undefined) return `token ${bad} was not sampled by the policy: only policy tokens can be forked`;
  if (request.kind !== 'distribution' && !(Number.isInteger(request.samples) && request.samples >= 1 && request.samples <= MAX_FORK_SAMPLES)) {
    return `samples must be a whole number from 1 to ${MAX_FORK_SAMPLES}, not ${request.samples}`;
  }
  return null;
}
