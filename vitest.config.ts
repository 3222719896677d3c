import { defineConfig } from 'vitest/config';

// Tests are split by what has to be started (style §4.2.11):
// unit: pure code beside the source; integration: buildApp + inject on a real level store in a
// temp dir; e2e: the built server as a child process over real HTTP.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'test/integration/**/*.test.ts', 'test/operator/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // A real kube-apiserver + etcd per file (test/k8s/cluster.sh). The hook timeout covers a
        // cold build of the binaries (10-25 min on 2 cores) when nothing pre-built them.
        test: {
          name: 'k8s',
          include: ['test/k8s/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
