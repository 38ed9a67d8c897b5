import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { splitBundle } from "../../../infra/bundling.ts";
import { topology, type FunctionName } from "../../../lib/topology.ts";

/**
 * Each function's bundle as the stack deploys it (split at the wiring's `import()`s by
 * `splitBundleCommand`, infra/simsnap-function.ts): what a cold start loads (`index.mjs` and the chunks it imports statically)
 * holds no AWS client, and each client the function carries is in a chunk the wiring imports on
 * first use. A static import of a client or an adapter anywhere on the init path fails here.
 */

const functionNames = Object.keys(topology.functions) as FunctionName[];

interface Loads {
  /** Source modules with code in what a cold start loads. */
  atInit: Set<string>;
  /** Source modules with code in any chunk of the bundle. */
  anywhere: Set<string>;
}

const loads = new Map<FunctionName, Loads>();

const kept = (metafile: Metafile, outputs: Iterable<string>): Set<string> =>
  new Set(
    [...outputs].flatMap((output) =>
      Object.entries(metafile.outputs[output]?.inputs ?? {})
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    ),
  );

beforeAll(async () => {
  const outDir = await mkdtemp(join(tmpdir(), "simsnap-cold-start-"));
  try {
    for (const name of functionNames) {
      const metafile = await splitBundle(topology.functions[name].entry, join(outDir, name));
      const index = Object.keys(metafile.outputs).find(
        (path) => metafile.outputs[path]?.entryPoint === topology.functions[name].entry,
      );
      const atInit = new Set<string>();
      const pending = index ? [index] : [];
      for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
        if (atInit.has(path)) continue;
        atInit.add(path);
        for (const i of metafile.outputs[path]?.imports ?? []) {
          if (!i.external && i.kind === "import-statement") pending.push(i.path);
        }
      }
      loads.set(name, {
        atInit: kept(metafile, atInit),
        anywhere: kept(metafile, Object.keys(metafile.outputs)),
      });
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}, 180_000);

const loadsOf = (name: FunctionName): Loads => {
  const found = loads.get(name);
  if (!found) throw new Error(`No bundle of ${name}`);
  return found;
};

const AWS_CLIENT = /node_modules\/@aws-sdk\/client-|lib\/adapters\/simspaceweaver\/client\.ts$/;

describe.each(functionNames)("%s's cold start", (name) => {
  it("loads no AWS client, and no adapter built on one", () => {
    const atInit = [...loadsOf(name).atInit];
    expect(atInit.filter((path) => AWS_CLIENT.test(path))).toEqual([]);
    expect(atInit.filter((path) => /^lib\/adapters\/[\w-]+\/deferred\.ts$/.test(path))).toEqual([]);
  });

  it("finds the catalog's client in a chunk it loads on first use", () => {
    const anywhere = [...loadsOf(name).anywhere];
    expect(anywhere.some((path) => path.includes("node_modules/@aws-sdk/client-dynamodb/"))).toBe(
      true,
    );
  });
});
