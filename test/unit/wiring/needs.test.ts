import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { SIMSNAP_BUNDLING } from "../../../infra/simsnap-function.ts";
import { environmentFor, type DeploymentValues } from "../../../lib/settings.ts";
import {
  topology,
  type FunctionName,
  type FunctionNeeds,
  type ProviderOperation,
  type QueueName,
} from "../../../lib/topology.ts";
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

/**
 * The provider operations a bundle's own code calls: use cases reach the port through a value
 * named `provider` (`deps.provider.createSnapshot(…)`); the adapter and the client, which
 * implement every operation, are not callers.
 */
function providerCalls(name: FunctionName): ProviderOperation[] {
  const operations = new Set<ProviderOperation>();
  for (const [path, code] of bundleOf(name).sections) {
    if (path.startsWith("node_modules/") || path.startsWith("lib/adapters/")) continue;
    for (const [, method] of code.matchAll(/\bprovider\d*\.(\w+)\(/g)) {
      const operation = PROVIDER_OPERATIONS[method as keyof typeof PROVIDER_OPERATIONS];
      if (operation) operations.add(operation);
    }
  }
  return [...operations].sort();
}

describe.each(functionNames)("%s's declared needs", (name) => {
  const needs = () => needsOf(name);

  it("name exactly the SimSpace Weaver operations its code calls", () => {
    expect(providerCalls(name)).toEqual([...needs().provider].sort());
  });

  it("declare a provider if and only if it bundles the provider builder and client", () => {
    const declared = needs().provider.length > 0;
    expect(bundleOf(name).modules.has("lib/wiring/provider.ts")).toBe(declared);
    expect(bundleOf(name).kept.has("lib/adapters/simspaceweaver/client.ts")).toBe(declared);
  });

  it("declare snapshot or archive access if and only if it bundles the S3 client", () => {
    const declared = needs().snapshots !== undefined || (needs().archive?.length ?? 0) > 0;
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
