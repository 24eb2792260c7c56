import { defineConfig } from 'vitest/config';

// Slow tests (real pretrained model, browser, notebooks) live in `*.slow.test.ts` files: CI runs
// them; `npm run test:fast` (MISTUDIO_SKIP_SLOW=1) skips them for quick local iteration.
const skipSlow = process.env.MISTUDIO_SKIP_SLOW === '1';

export default defineConfig({
  test: {
    include: ['src/core/test/**/*.test.ts', 'widgets/test/**/*.test.ts', 'kernel-extensions/test/**/*.test.ts', 'jupyterlab-extension/test/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', ...(skipSlow ? ['**/*.slow.test.ts'] : [])],
    pool: 'forks',
    // Two cores: model tests are multi-threaded inside onnxruntime, so files run one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
