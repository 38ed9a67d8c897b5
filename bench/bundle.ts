/**
 * Size and cold import time of every Lambda function's bundle, built exactly as the stack builds
 * it: `SIMSNAP_BUNDLING` from infra/simsnap-function.ts, handed to esbuild's API the way CDK's
 * aws-lambda-nodejs hands it to esbuild's command line. Each bundle is imported in a fresh Node
 * process, from a directory with no node_modules (as in Lambda), with the environment its
 * function's declaration gets (`environmentFor`) set to dummy values; beside it, the CPU time of
 * a whole process that imports it and of an empty `node` start, taken in turns (`start/empty`,
 * and their `ratio`). Prints figures, the AWS
 * clients each bundle carries (only those its `needs` declare), the packages that weigh most in the
 * largest bundle, and exits with 1 only if a bundle breaks a rule a deployment relies on: at most
 * 1 MB minified, and no static import of a module left out of the bundle (the start ratio is a
 * goal, issue 17's 2×, not such a rule: it is printed, not enforced).
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
import { environmentFor, type DeploymentValues } from "../lib/settings.ts";
import { topology, type FunctionName, type QueueName } from "../lib/topology.ts";

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

/** Dummy names for what a function's declaration calls for, as the stack would set them. */
const DUMMY_DEPLOYMENT: DeploymentValues = {
  table: "simsnap-catalog",
  snapshotBucket: "simsnap-snapshots",
  snapshotPrefix: "simsnap",
  adoptedPrefixes: [],
  eventBus: "simsnap",
  queueUrls: Object.fromEntries(
    Object.keys(topology.queues).map((queue) => [
      queue,
      `https://sqs.us-east-1.amazonaws.com/123456789012/${queue}`,
    ]),
  ) as Record<QueueName, string>,
  pruneDebounceSeconds: 60,
  archiveBucket: "simsnap-archive",
};

/** What a function reads at cold start: the environment its declaration gets (`environmentFor`). */
function dummyEnvironment(name: FunctionName): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "example",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    POWERTOOLS_SERVICE_NAME: "simsnap",
    ...environmentFor(name, DUMMY_DEPLOYMENT),
  };
}

/**
 * The AWS clients a bundle carries (`@aws-sdk/client-s3` → `s3`, and our own SimSpace Weaver
 * client), each of which its function's declaration must justify.
 */
function sdkClients(metafile: Metafile): string[] {
  const clients = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const client =
        /node_modules\/@aws-sdk\/client-([\w-]+)\//.exec(path)?.[1] ??
        (path.endsWith("lib/adapters/simspaceweaver/client.ts") ? "simspaceweaver" : undefined);
      if (client && bytesInOutput > 0) clients.add(client);
    }
  }
  return [...clients].sort();
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

/**
 * CPU milliseconds (user and system) a whole fresh process has used once it has imported `file`
 * (or nothing): Node's own start plus the bundle's, counted the same way for both. CPU time,
 * because wall time on a shared machine measures the other work too.
 */
async function processMs(file: string | undefined, env: NodeJS.ProcessEnv, cwd: string) {
  const script =
    (file === undefined ? "" : `await import(${JSON.stringify(pathToFileURL(file).href)});`) +
    "const { user, system } = process.cpuUsage(); console.log((user + system) / 1000);";
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
      `${"cold import".padStart(12)} ${"start/empty".padStart(13)} ${"ratio".padStart(6)}  ≤ 1 MB  SDK clients`,
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
    const withBundle: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < imports; i++) {
      times.push(await coldImportMs(outfile, dummyEnvironment(name), outDir));
      // Side by side, so a busy machine slows both alike.
      empty.push(await processMs(undefined, dummyEnvironment(name), outDir));
      withBundle.push(await processMs(outfile, dummyEnvironment(name), outDir));
    }
    const ratio = median(withBundle) / median(empty);
    console.log(
      `${name.padEnd(20)} ${kib(bytes).padStart(10)} ${kib(mapBytes).padStart(11)} ` +
        `${`${median(times).toFixed(0)} ms`.padStart(12)} ` +
        `${`${median(withBundle).toFixed(0)}/${median(empty).toFixed(0)} ms`.padStart(13)} ` +
        `${`${ratio.toFixed(2)}×`.padStart(6)}  ` +
        `${(bytes <= LIMIT_BYTES ? "yes" : "NO").padEnd(6)}  ${sdkClients(metafile).join(" ")}`,
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
