// Type-aware lint for the TypeScript sources and tests. The rules that matter
// most here are the async ones: a floating promise or a misused one in a
// broker that must never hang or crash is a bug, not a style issue.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "packages/proto/src/gen/**", "**/*.mjs", "**/*.js"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.tests.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // Each source file is typed under its own package's tsconfig (strict index access), not the tests' program.
    files: ["packages/*/src/**/*.ts", "services/*/src/**/*.ts"],
    languageOptions: { parserOptions: { project: ["./packages/*/tsconfig.json", "./services/*/tsconfig.json"] } },
  },
  {
    files: ["bench/**/*.ts"],
    languageOptions: { parserOptions: { project: ["./bench/tsconfig.json"] } },
  },
  {
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // fastify handlers are async by contract even when they do not await.
      "@typescript-eslint/require-await": "off",
      // A switch over a union (a state, a reason, an op) handles every member or says `default:`;
      // a member added later is then a lint error at each switch that forgot it.
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false }],
    },
  },
  {
    files: ["**/test/**/*.ts", "test/**/*.ts"],
    rules: {
      // expect.any(...) and friends are typed `any` by vitest.
      "@typescript-eslint/no-unsafe-assignment": "off",
      // Misfires on literal descriptors in tests (its type view differs from tsc's there).
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
);
