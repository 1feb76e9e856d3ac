// Seeded, splittable random numbers: every stochastic choice in the engine draws from one of
// these, so a run is reproduced exactly by its seed.

/** mulberry32: small, fast, and good enough for sampling tokens and prompts. */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string: derives independent streams from (seed, label). */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private readonly draw: () => number;

  constructor(readonly seed: number) {
    this.draw = mulberry32(hashString(String(seed)));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.draw() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bernoulli(p: number): boolean {
    return this.draw() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** An independent stream named by `label`, unaffected by how much this one was used. */
  fork(label: string): Rng {
    return new Rng(hashString(label, hashString(String(this.seed))));
  }

  /** Fisher-Yates shuffle, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
