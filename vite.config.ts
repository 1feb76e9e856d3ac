import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  // bench.html: the kernel benchmark in the browser (npm run bench drives it in headless Chromium).
  build: { rollupOptions: { input: { main: page('./index.html'), bench: page('./bench.html') } } },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
