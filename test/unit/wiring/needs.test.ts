import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { SIMSNAP_BUNDLING } from "../../../infra/simsnap-function.ts";
import { environmentFor, type DeploymentValues } from "../../../lib/settings.ts";
import { callsAir } from "../../../lib/settings.ts";
import {
  topology,
  type FunctionName,
  type FunctionNeeds,
  type QueueName,
} from "../../../lib/topology.ts";
import { AIR_CHECKPOINT_OPERATIONS, AIR_PROVIDER_OPERATIONS } from "../../../lib/wiring/air.ts";
import { PROVIDER_OPERATIONS } from "../../../lib/wiring/provider.ts";

/**
 * Holds each function's declaration (`needs`, `sendsTo` in lib/topology.ts) to what its handler
 * actually uses, read from its bundle as esbuild builds it for Lambda (unminified, so names
 * survive): the SDK clients it carries, the wiring modules it imports, and the provider
 * operations its code calls. A declaration that grants too much or too little fails here.
 */

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const functionNames = Object.keys(topology.functions) as FunctionName[];
const needsOf = (name: FunctionName): FunctionNeeds => topology.functions[name].needs;

interface Bundle {
  /** Every module the entry reaches (import graph), relative to the repository root. */
  modules: Set<string>;
  /** Modules with code left in the bundle after tree shaking. */
  kept: Set<string>;
  /** The bundle's code by module, from esbuild's `// <path>` section comments. */
  sections: Map<string, string>;
}

const bundles = new Map<FunctionName, Bundle>();

beforeAll(async () => {
  for (const name of functionNames) {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: [topology.functions[name].entry],
      bundle: true,
      platform: "node",
      format: "esm",
      mainFields: [...SIMSNAP_BUNDLING.mainFields],
      external: [...SIMSNAP_BUNDLING.externalModules],
      outfile: `${name}.mjs`,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const metafile = result.metafile as Metafile;
    const output = Object.values(metafile.outputs)[0];
    const code = result.outputFiles[0]?.text ?? "";
    const sections = new Map<string, string>();
    const parts = code.split(/^\/\/ (\S+\.[cm]?[jt]s)$/m);
    for (let i = 1; i < parts.length; i += 2) {
      sections.set(parts[i] ?? "", (sections.get(parts[i] ?? "") ?? "") + (parts[i + 1] ?? ""));
    }
    bundles.set(name, {
      modules: new Set(Object.keys(metafile.inputs)),
      kept: new Set(
        Object.entries(output?.inputs ?? {})
          .filter(([, input]) => input.bytesInOutput > 0)
          .map(([path]) => path),
      ),
      sections,
    });
  }
}, 120_000);

const bundleOf = (name: FunctionName): Bundle => {
  const bundle = bundles.get(name);
  if (!bundle) throw new Error(`No bundle of ${name}`);
  return bundle;
};
const carries = (name: FunctionName, pkg: string): boolean =>
  [...bundleOf(name).kept].some((path) => path.includes(`node_modules/${pkg}/`));
const consumes = (name: FunctionName): boolean =>
  Object.values(topology.queues).some((spec) => spec.consumer === name);

const PORT_METHODS = new Set([
  ...Object.keys(PROVIDER_OPERATIONS),
  ...Object.keys(AIR_PROVIDER_OPERATIONS),
]);
const CHECKPOINT_METHODS = Object.keys(AIR_CHECKPOINT_OPERATIONS).join("|");

/**
 * The port methods a bundle's own code calls, on whichever platform: use cases reach the port
 * through a value named `provider` (`deps.provider.createSnapshot(…)`), a platform's checkpoints
 * through one named `held` or `heldCheckpointsOf(…)` (`held.delete(…)`, as `checkpoints.delete`),
 * and the stop with a checkpoint by its name. The adapters, clients and builders, which implement
 * or wrap every operation, are not callers.
 */
function portCalls(name: FunctionName): string[] {
  const methods = new Set<string>();
  for (const [path, code] of bundleOf(name).sections) {
    if (/^(node_modules|lib\/adapters|lib\/wiring)\//.test(path)) continue;
    for (const [, method] of code.matchAll(/\bprovider\d*\.(\w+)\(/g)) {
      if (method && PORT_METHODS.has(method)) methods.add(method);
    }
    const held = new RegExp(
      `(?:\\bheld\\d*|\\bheldCheckpointsOf\\d*\\((?:[^()]|\\([^()]*\\))*\\))\\.(${CHECKPOINT_METHODS})\\(`,
      "g",
    );
    for (const [, method] of code.matchAll(held)) methods.add(`checkpoints.${method}`);
    if (/\bstopWithCheckpoint(?:\.bind)?\(/.test(code)) methods.add("stopWithCheckpoint");
  }
  return [...methods].sort();
}

/** The port methods a declaration allows, on SimSpace Weaver (by API name) or NVIDIA Air. */
function declaredMethods(needs: FunctionNeeds): string[] {
  const byOperation = new Map(Object.entries(PROVIDER_OPERATIONS).map(([m, op]) => [op, m]));
  const weaver = needs.provider.map((operation) => byOperation.get(operation) ?? operation);
  return [...new Set([...weaver, ...(needs.air ?? [])])].sort();
}

const declaresPlatform = (needs: FunctionNeeds): boolean =>
  needs.provider.length > 0 || callsAir(needs);

describe.each(functionNames)("%s's declared needs", (name) => {
  const needs = () => needsOf(name);

  it("name exactly the port methods its code calls, across SimSpace Weaver and NVIDIA Air", () => {
    expect(portCalls(name)).toEqual(declaredMethods(needs()));
  });

  it("declare a platform's operations if and only if it bundles the provider builder and client", () => {
    const declared = declaresPlatform(needs());
    expect(bundleOf(name).modules.has("lib/wiring/provider.ts")).toBe(declared);
    expect(bundleOf(name).kept.has("lib/adapters/simspaceweaver/client.ts")).toBe(declared);
  });

  it("bundle the NVIDIA Air client and Secrets Manager's wherever it declares Air operations", () => {
    // Only where Air is declared can the builder hand it out (and the stack grant its secret);
    // a function without any provider operation carries neither.
    if (callsAir(needs())) {
      expect(bundleOf(name).kept.has("lib/adapters/air/client.ts")).toBe(true);
      expect(carries(name, "@aws-sdk/client-secrets-manager")).toBe(true);
    }
    if (!declaresPlatform(needs())) {
      expect(bundleOf(name).kept.has("lib/adapters/air/client.ts")).toBe(false);
      expect(carries(name, "@aws-sdk/client-secrets-manager")).toBe(false);
    }
  });

  it("declare snapshot, files or archive access if and only if it bundles the S3 client", () => {
    const declared =
      needs().snapshots !== undefined ||
      needs().files !== undefined ||
      (needs().archive?.length ?? 0) > 0;
    expect(carries(name, "@aws-sdk/client-s3")).toBe(declared);
  });

  it("declare events if and only if it bundles the EventBridge client", () => {
    expect(carries(name, "@aws-sdk/client-eventbridge")).toBe(needs().events);
  });

  it("send to or consume a queue if and only if it bundles the SQS client", () => {
    const declared = topology.functions[name].sendsTo.length > 0 || consumes(name);
    expect(carries(name, "@aws-sdk/client-sqs")).toBe(declared);
  });

  it("use the catalog through the DynamoDB stores", () => {
    expect(carries(name, "@aws-sdk/client-dynamodb")).toBe(true);
  });
});

describe("every handler module", () => {
  it("loads with the environment its declaration gets, building only what it declares", async () => {
    const values: DeploymentValues = {
      table: "catalog",
      snapshotBucket: "snapshots",
      snapshotPrefix: "simsnap",
      adoptedPrefixes: [],
      eventBus: "simsnap",
      queueUrls: Object.fromEntries(
        Object.keys(topology.queues).map((queue) => [queue, `http://127.0.0.1:1/queue/${queue}`]),
      ) as Record<QueueName, string>,
      pruneDebounceSeconds: 60,
      archiveBucket: "archive",
      simulationRoleArn: "arn:aws:iam::123456789012:role/simulation",
      air: { endpoint: "http://127.0.0.1:1/api/v3/", tokenEnv: "AIR_API_TOKEN" },
    };
    // One process loads them all, as the local runtime does: the union of their environments.
    // A builder or a setting a handler uses without declaring it throws at import.
    for (const name of functionNames) Object.assign(process.env, environmentFor(name, values));
    process.env.AWS_REGION = "us-east-1";
    for (const name of functionNames) {
      const module = (await import(`${repoRoot}${topology.functions[name].entry}`)) as {
        handler?: unknown;
      };
      expect(typeof module.handler, name).toBe("function");
    }
  });
});
