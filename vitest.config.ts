import { defineConfig } from "vitest/config";

// Tests run from TypeScript sources: the "@dmabroker/source" export condition
// points every workspace package at its src/index.ts, so no build is needed.
const resolve = { conditions: ["@dmabroker/source"] };
// Workspace packages are linked under node_modules, so vite treats them as
// external and Node resolves them without the condition (stale dist/); apply it there too.
const ssr = { resolve: { conditions: ["@dmabroker/source"], externalConditions: ["@dmabroker/source"] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/integration/no-leaked-processes.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file starts its own cluster of real processes; two cores.
          fileParallelism: false,
        },
      },
      // Real containers (podman): only with `npm run test:containers`, never in `npm test`
      // (it builds the image and brings up the compose stack: minutes, root, podman).
      ...(process.env.DMABROKER_CONTAINER_TESTS === "1"
        ? [
            {
              resolve,
              ssr,
              test: {
                name: "containers",
                include: ["test/containers/**/*.test.ts"],
                testTimeout: 120_000,
                hookTimeout: 600_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
      {
        resolve,
        ssr,
        test: {
          // Offline checks of deploy/ and docker-compose.yml, and the image's
          // production start from dist/ (needs `npm run build`; npm test builds first).
          name: "deploy",
          include: ["test/deploy/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
