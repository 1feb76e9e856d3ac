import { hashString, Rng } from '../rng';
import type { TaskFamily, TaskItem } from './types';

const families = new Map<string, TaskFamily>();

export function registerTask(family: TaskFamily): void {
  if (families.has(family.name)) throw new Error(`task family "${family.name}" is already registered`);
  families.set(family.name, family);
}

export function getTask(name: string): TaskFamily {
  const family = families.get(name);
  if (!family) throw new Error(`unknown task family "${name}" (known: ${taskNames().join(', ')})`);
  return family;
}

export function taskNames(): string[] {
  return [...families.keys()];
}

/** One prompt in five is held out for evaluation, decided by the prompt text alone. */
export function isHeldOut(prompt: string): boolean {
  return hashString(prompt) % 5 === 0;
}

/** Size of the fixed held-out evaluation set. */
export const EVAL_SET_SIZE = 512;
/** The evaluation set is the same for every run, whatever its seed. */
const EVAL_SEED = 20260603;

/**
 * The fixed evaluation set: draws from the family's distribution restricted to held-out
 * prompts. Draws may repeat (there are only 100 one-digit sums), so it mirrors the training
 * distribution; it never shares a prompt with training, which only sees non-held-out prompts.
 */
export function evaluationSet(family: TaskFamily, size = EVAL_SET_SIZE): TaskItem[] {
  const rng = new Rng(EVAL_SEED).fork(`eval:${family.name}`);
  const items: TaskItem[] = [];
  while (items.length < size) {
    const item = family.sample(rng);
    if (isHeldOut(item.prompt)) items.push(item);
  }
  return items;
}

/** A training-prompt stream: the family's distribution without the held-out prompts. */
export function trainingItem(family: TaskFamily, rng: Rng): TaskItem {
  for (;;) {
    const item = family.sample(rng);
    if (!isHeldOut(item.prompt)) return item;
  }
}
