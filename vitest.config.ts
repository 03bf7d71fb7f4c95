import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds dist/ once so the end-to-end tests run the CLI compiled from the current src/.
    globalSetup: ['./test/e2e/globalSetup.ts'],
  },
});
