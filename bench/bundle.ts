/**
 * Size and cold import time of every Lambda function's bundle, built exactly as the stack builds
 * it: `SIMSNAP_BUNDLING` from infra/simsnap-function.ts, handed to esbuild's API the way CDK's
 * aws-lambda-nodejs hands it to esbuild's command line. Each bundle is imported in a fresh Node
 * process, from a directory with no node_modules (as in Lambda), with the environment variables
 * its function reads set to dummy values. Prints figures, the packages that weigh most in the
 * largest bundle, and exits with 1 only if a bundle breaks a rule a deployment relies on: at most
 * 1 MB minified, and no static import of a module left out of the bundle.
 * Usage: npm run bench:bundle -- [imports per function, default 5]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { SIMSNAP_BUNDLING, SIMSNAP_RUNTIME } from "../infra/simsnap-function.ts";
import { queueUrlEnv, topology, type FunctionName } from "../lib/topology.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const imports = Number(process.argv[2] ?? 5);
const LIMIT_BYTES = 1_000_000;

/**
 * esbuild options equal to the command line aws-lambda-nodejs builds from `SIMSNAP_BUNDLING`.
 * An option this translation does not know fails the bench, so the construct cannot gain a
 * setting that the figures below silently leave out.
 */
function esbuildOptions(entry: string, outfile: string): BuildOptions {
  const {
    forceDockerBundling,
    format,
    mainFields,
    banner,
    minify,
    sourceMap,
    sourcesContent,
    externalModules,
    ...unknown
  } = SIMSNAP_BUNDLING;
  if (forceDockerBundling) throw new Error("The stack bundles in Docker; this bench cannot");
  if (Object.keys(unknown).length > 0) {
    throw new Error(`bench/bundle.ts does not translate ${Object.keys(unknown).join(", ")}`);
  }
  const major = /^nodejs(\d+)/.exec(SIMSNAP_RUNTIME.name)?.[1];
  return {
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: `node${major}`,
    format,
    outfile,
    minify,
    sourcemap: sourceMap,
    sourcesContent,
    external: externalModules,
    banner: { js: banner },
    mainFields,
    metafile: true,
    logLevel: "warning",
  };
}

/** What a function reads at cold start: settings without defaults, and its queues' URLs. */
function dummyEnvironment(name: FunctionName): NodeJS.ProcessEnv {
  const queues = Object.fromEntries(
    topology.functions[name].sendsTo.map((queue) => [
      queueUrlEnv(queue),
      `https://sqs.us-east-1.amazonaws.com/123456789012/${queue}`,
    ]),
  );
  return {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "example",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    POWERTOOLS_SERVICE_NAME: "simsnap",
    SIMSNAP_TABLE: "simsnap-catalog",
    SIMSNAP_SNAPSHOT_BUCKET: "simsnap-snapshots",
    SIMSNAP_ARCHIVE_BUCKET: "simsnap-archive",
    ...queues,
  };
}

/** Milliseconds one fresh process takes to import the bundle (module evaluation included). */
async function coldImportMs(file: string, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const script =
    "const t = performance.now();" +
    `await import(${JSON.stringify(pathToFileURL(file).href)});` +
    "console.log(performance.now() - t);";
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    env,
    cwd,
  });
  return Number(stdout.trim());
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** External modules a bundle imports with a static `import`, which Lambda cannot resolve. */
function staticExternalImports(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    output.imports
      .filter((i) => i.external && i.kind === "import-statement" && !builtins.has(i.path))
      .map((i) => i.path),
  );
}

/** Bytes in the bundle per npm package (or per folder of ours), largest first. */
function weightByPackage(metafile: Metafile): [string, number][] {
  const weights = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ??
        path.split("/").slice(0, 2).join("/");
      weights.set(key, (weights.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...weights].sort((a, b) => b[1] - a[1]);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

const outDir = await mkdtemp(join(tmpdir(), "simsnap-bundles-"));
const failures: string[] = [];
let largest: { name: FunctionName; bytes: number; metafile: Metafile } | undefined;
try {
  console.log(
    `bundle bench: ${SIMSNAP_RUNTIME.name} target, esbuild as the stack runs it; cold import ` +
      `= median of ${imports} fresh Node ${process.versions.node} processes`,
  );
  console.log(
    `${"function".padEnd(20)} ${"minified".padStart(10)} ${"source map".padStart(11)} ` +
      `${"cold import".padStart(12)}  ≤ 1 MB`,
  );
  for (const name of Object.keys(topology.functions) as FunctionName[]) {
    const outfile = join(outDir, name, "index.mjs");
    const result = await build(
      esbuildOptions(join(repoRoot, topology.functions[name].entry), outfile),
    );
    const metafile = result.metafile as Metafile;
    const bytes = (await stat(outfile)).size;
    const mapBytes = (await stat(`${outfile}.map`)).size;
    const unresolvable = staticExternalImports(metafile);
    if (unresolvable.length > 0) {
      failures.push(`${name} imports ${unresolvable.join(", ")} statically`);
    }
    if (bytes > LIMIT_BYTES) failures.push(`${name} is ${bytes} bytes minified`);
    const times: number[] = [];
    for (let i = 0; i < imports; i++) {
      times.push(await coldImportMs(outfile, dummyEnvironment(name), outDir));
    }
    console.log(
      `${name.padEnd(20)} ${kib(bytes).padStart(10)} ${kib(mapBytes).padStart(11)} ` +
        `${`${median(times).toFixed(0)} ms`.padStart(12)}  ${bytes <= LIMIT_BYTES ? "yes" : "NO"}`,
    );
    if (!largest || bytes > largest.bytes) largest = { name, bytes, metafile };
  }
  if (largest) {
    console.log(`\nheaviest packages in ${largest.name}:`);
    for (const [pkg, bytes] of weightByPackage(largest.metafile).slice(0, 8)) {
      console.log(`  ${kib(bytes).padStart(8)}  ${pkg}`);
    }
  }
} finally {
  await rm(outDir, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\n${failures.join("\n")}`);
  process.exitCode = 1;
}
