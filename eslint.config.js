import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules", "cdk.out", ".simsnap", "coverage", "packages/*/dist"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    files: ["cli/**", "bench/**", "lib/local/**"],
    rules: { "no-console": "off" },
  },
  {
    // zod's `z` export is a namespace object that drags every locale (~260 KiB minified) into a
    // Lambda bundle; `import * as z` lets esbuild keep only what is used (npm run bench:bundle).
    files: ["lib/**", "functions/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z'][importKind!='type']",
          message: 'Use `import * as z from "zod"`: the named `z` bundles every zod locale.',
        },
      ],
    },
  },
  {
    // The layering as a check: the domain and the use cases see ports, never adapters, the AWS
    // SDK, the local runtime or the handlers, so tests run them on in-memory fakes.
    files: ["lib/domain/**", "lib/usecases/**", "lib/ports/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/adapters/**", "**/local/**", "**/handlers/**", "**/wiring/**"],
              message: "lib/domain, lib/usecases and lib/ports depend on ports, not on adapters.",
            },
            {
              group: ["@aws-sdk/*", "@smithy/*", "@aws-lambda-powertools/*", "@middy/*"],
              message: "lib/domain, lib/usecases and lib/ports stay free of SDKs and middleware.",
            },
          ],
        },
      ],
    },
  },
);
