// The page's main thread loads no tfjs: tfjs runs in the training worker, and on the main thread
// it would add about 900 kB (235 kB gzip) before anything trains. Walks the static value imports
// from src/app/main.tsx (type-only imports are erased; the worker starts from a URL, not an import).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const IMPORT = /^\s*(import|export)\s+([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** The modules a file imports for their values: `import type` and all-`type` lists do not count. */
function valueImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    if (match[4] !== undefined) {
      found.push(match[4]);
      continue;
    }
    const clause = match[2];
    if (/^type\b/.test(clause)) continue;
    const names = /^\{([^}]*)\}$/s.exec(clause)?.[1].split(',').map((n) => n.trim()).filter(Boolean);
    if (names && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    found.push(match[3]);
  }
  return found;
}

function resolveLocal(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve ${specifier} from ${from}`);
}

/** Every package the page's entry reaches, with the chain of files that reaches it. */
function packagesReached(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of valueImports(fs.readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        if (/\.(css|svg|png)$/.test(specifier)) continue;
        visit(resolveLocal(file, specifier), [...chain, path.relative(repoRoot, file)]);
      } else if (!packages.has(specifier)) {
        packages.set(specifier, [...chain, path.relative(repoRoot, file)]);
      }
    }
  };
  visit(path.join(repoRoot, 'src/app/main.tsx'), []);
  return packages;
}

describe('the page bundle', () => {
  it('reads value imports, not type-only ones', () => {
    const source = [
      "import type { A } from './a';",
      "import { type B, type C } from './b';",
      "import { d, type E } from './d';",
      "import {\n  f,\n} from './f';",
      "import './g.css';",
      "export { h } from './h';",
      "export type { I } from './i';",
    ].join('\n');
    expect(valueImports(source)).toEqual(['./d', './f', './g.css', './h']);
  });

  it('has no tfjs on the main thread', () => {
    const reached = packagesReached(path.join(repoRoot, 'src/app/main.tsx'));
    const tfjs = [...reached].filter(([name]) => name.startsWith('@tensorflow/')).map(([name, chain]) => `${name} via ${chain.join(' > ')}`);
    expect(tfjs).toEqual([]);
    // The walk sees the page's own packages, so an empty list above is not a walk that found nothing.
    expect([...reached.keys()]).toEqual(expect.arrayContaining(['react', 'zustand']));
  });
});
