// Flat config: typescript-eslint's type-aware rules on src/ and test/.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * One direction of flow (../shared/design/architecture.md): entry points → controller → baseline →
 * api → runtime, with observability beside the runtime. A folder may not import one above it.
 */
const TOP = ["../*.js"];
const layer = (folder, above) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            group: [...TOP, ...above.map((f) => `../${f}/*`)],
            message: `src/${folder} may not import a layer above it (see architecture.md)`,
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".cluster/**", "test/apiserver/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/explicit-module-boundary-types": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      complexity: ["error", 20],
    },
  },
  layer("runtime", ["api", "baseline", "controller", "cli", "observability"]),
  layer("observability", ["api", "baseline", "controller", "cli"]),
  layer("api", ["baseline", "controller", "cli", "observability"]),
  layer("baseline", ["controller", "cli", "observability", "runtime"]),
  layer("controller", ["cli"]),
  {
    files: ["test/**/*.ts"],
    rules: {
      // chai's expect(...).to.be.true is an expression statement by design.
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/explicit-module-boundary-types": "off",
    },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
