/**
 * Size and cold start cost of every Lambda function's bundle, built exactly as the stack builds
 * it: split at the wiring's `import()`s by `splitBundleCommand` (infra/simsnap-function.ts, the
 * functions' `afterBundling` hook), run through infra/bundling.ts. Side by side, in turns, in
 * fresh Node processes started from a directory with no node_modules (as in Lambda) with the
 * environment Lambda gives the function (its declaration's settings, `environmentFor`, set to
 * dummy values, and `SIMSNAP_FUNCTION_ENVIRONMENT`), it measures a whole process that: imports
 * nothing (`empty`, Node's own start); imports `index.mjs` as Lambda's runtime does (`import`,
 * what a cold start pays before the first event; `×` = import/empty, issue 17's goal is ≤ 2×);
 * the same without `--enable-source-maps` (`no maps`, a figure only: the functions keep them);
 * and imports it and then every chunk the wiring defers (`all`, a first invocation that uses
 * every AWS client its function declares). Each by two measures: the process's CPU time (user
 * and system), which other work on a busy machine disturbs least, and its wall time from outside
 * (spawn to exit, as issue 17 first measured it), which also counts what Node waits for; medians
 * of the runs. A last row, `floor`, is bench/fixtures/toolchain-floor.ts bundled the same way:
 * the house toolchain (middy, Powertools' logger and metrics, zod with one schema) and nothing of
 * ours, the least a function written with it can cost.
 * Prints the figures, the AWS clients each bundle carries (only those its `needs` declare, all on
 * first use), the packages that weigh most in what the largest cold start loads, and exits with 1
 * only if a bundle breaks a rule a deployment relies on: at most 1 MB minified in all, no AWS
 * client in what a cold start loads, and no static import of a module left out of the bundle
 * (the ratio is a goal, not such a rule: it is printed, not enforced).
 * Usage: npm run bench:bundle -- [runs per function, default 5]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Metafile } from "esbuild";
import { splitBundle } from "../infra/bundling.ts";
import { SIMSNAP_FUNCTION_ENVIRONMENT, SIMSNAP_RUNTIME } from "../infra/simsnap-function.ts";
import { environmentFor, type DeploymentValues } from "../lib/settings.ts";
import { topology, type FunctionName, type QueueName } from "../lib/topology.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const imports = Number(process.argv[2] ?? 5);
const LIMIT_BYTES = 1_000_000;

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

/** What every function's process gets, whatever it declares. */
const BASE_ENVIRONMENT: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "example",
  ...SIMSNAP_FUNCTION_ENVIRONMENT,
};

/** What a function reads at cold start: the environment its declaration gets (`environmentFor`). */
const dummyEnvironment = (name: FunctionName): NodeJS.ProcessEnv => ({
  ...BASE_ENVIRONMENT,
  ...environmentFor(name, DUMMY_DEPLOYMENT),
});

/** The outputs of a split bundle: what a cold start loads, and the chunks the wiring defers. */
interface Split {
  /** `index.mjs` and every chunk it imports statically, transitively: a cold start's load. */
  init: string[];
  /** The chunks of the wiring's `import()`s (our modules, not the SDK's own optional loads). */
  deferred: string[];
  /** Every JavaScript file of the bundle. */
  all: string[];
}

function splitOf(metafile: Metafile): Split {
  const outputs = metafile.outputs;
  const all = Object.keys(outputs).filter((path) => path.endsWith(".mjs"));
  const index = all.find((path) => outputs[path]?.entryPoint?.startsWith("functions/"));
  if (!index) throw new Error("The bundle has no entry output");
  const init = new Set<string>();
  const pending = [index];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (init.has(path)) continue;
    init.add(path);
    for (const i of outputs[path]?.imports ?? []) {
      if (!i.external && i.kind === "import-statement") pending.push(i.path);
    }
  }
  const deferred = all.filter((path) => /^lib\//.test(outputs[path]?.entryPoint ?? ""));
  return { init: [...init], deferred, all };
}

/**
 * The AWS clients in `outputs` (`@aws-sdk/client-s3` → `s3`, and our own SimSpace Weaver
 * client), each of which its function's declaration must justify.
 */
function sdkClients(metafile: Metafile, outputs: readonly string[]): string[] {
  const clients = new Set<string>();
  for (const output of outputs) {
    for (const [path, { bytesInOutput }] of Object.entries(
      metafile.outputs[output]?.inputs ?? {},
    )) {
      const client =
        /node_modules\/@aws-sdk\/client-([\w-]+)\//.exec(path)?.[1] ??
        (path.endsWith("lib/adapters/simspaceweaver/client.ts") ? "simspaceweaver" : undefined);
      if (client && bytesInOutput > 0) clients.add(client);
    }
  }
  return [...clients].sort();
}

/** Milliseconds of a whole fresh process: its CPU (user and system), and its wall from outside. */
interface Cost {
  cpu: number;
  wall: number;
}

/**
 * What a whole fresh process costs once it has imported `files`, in order (none: an empty
 * start): Node's own start plus the bundle's, counted the same way for both. CPU is what the
 * process has used when the imports are done; wall is from spawning it to its exit.
 */
async function processCost(
  files: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Cost> {
  const script =
    files.map((file) => `await import(${JSON.stringify(pathToFileURL(file).href)});`).join("") +
    "const { user, system } = process.cpuUsage(); console.log((user + system) / 1000);";
  const started = performance.now();
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    env,
    cwd,
  });
  return { cpu: Number(stdout.trim()), wall: performance.now() - started };
}

/** The environment without `--enable-source-maps`, for the `no maps` figure. */
const withoutSourceMaps = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  NODE_OPTIONS: (env.NODE_OPTIONS ?? "").replace("--enable-source-maps", "").trim(),
});

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** The median of each measure over `costs`. */
const medianCost = (costs: readonly Cost[]): Cost => ({
  cpu: median(costs.map((cost) => cost.cpu)),
  wall: median(costs.map((cost) => cost.wall)),
});

/** Medians of the runs of one bundle, each measure's ratio to the empty start's. */
interface Figures {
  empty: Cost;
  imported: Cost;
  noMaps: Cost;
  loaded: Cost;
}

/** Runs the four processes `runs` times in turns, so a busy machine slows them all alike. */
async function measure(
  index: string,
  deferred: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Figures> {
  const runs: Record<keyof Figures, Cost[]> = { empty: [], imported: [], noMaps: [], loaded: [] };
  for (let i = 0; i < imports; i++) {
    runs.empty.push(await processCost([], env, cwd));
    runs.imported.push(await processCost([index], env, cwd));
    runs.noMaps.push(await processCost([index], withoutSourceMaps(env), cwd));
    runs.loaded.push(await processCost([index, ...deferred], env, cwd));
  }
  return {
    empty: medianCost(runs.empty),
    imported: medianCost(runs.imported),
    noMaps: medianCost(runs.noMaps),
    loaded: medianCost(runs.loaded),
  };
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** External modules a bundle imports with a static `import`, which Lambda cannot resolve. */
function staticExternalImports(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    output.imports
      .filter((i) => i.external && i.kind === "import-statement" && !builtins.has(i.path))
      .map((i) => i.path),
  );
}

/** Bytes in `outputs` per npm package (or per folder of ours), largest first. */
function weightByPackage(metafile: Metafile, outputs: readonly string[]): [string, number][] {
  const weights = new Map<string, number>();
  for (const output of outputs) {
    for (const [path, { bytesInOutput }] of Object.entries(
      metafile.outputs[output]?.inputs ?? {},
    )) {
      const key =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ??
        path.split("/").slice(0, 2).join("/");
      weights.set(key, (weights.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...weights].sort((a, b) => b[1] - a[1]);
}

/** A metafile's output path (relative to the repository root) as a file. */
const resolveOutput = (path: string): string => resolve(repoRoot, path);

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const ms = (value: number) => value.toFixed(0).padStart(4);
const times = (value: number) => `${value.toFixed(2)}×`.padStart(6);
const meets = (ratio: number) => (ratio <= 2 ? "yes" : "no ");

/** The figures of one measure: empty, import and its ratio (≤ 2×?), no maps, all. */
function columns(figures: Figures, measure: keyof Cost): string {
  const empty = figures.empty[measure];
  const ratio = figures.imported[measure] / empty;
  return (
    `${ms(empty)} ${ms(figures.imported[measure]).padStart(6)} ${times(ratio)} ${meets(ratio)} ` +
    `${times(figures.noMaps[measure] / empty).padStart(7)} ${times(figures.loaded[measure] / empty)}`
  );
}
const MEASURE_HEADER =
  `${"empty".padStart(4)} ${"import".padStart(6)} ${"×".padStart(6)} ≤2× ` +
  `${"no maps".padStart(7)} ${"all".padStart(6)}`;

/** The house toolchain alone, bundled as the functions are (see the header). */
const FLOOR_ENTRY = "bench/fixtures/toolchain-floor.ts";

const outDir = await mkdtemp(join(tmpdir(), "simsnap-bundles-"));
const failures: string[] = [];
const ratios: { cpu: number[]; wall: number[] } = { cpu: [], wall: [] };
let heaviest: { name: FunctionName; bytes: number; metafile: Metafile; init: string[] } | undefined;
try {
  console.log(
    `bundle bench: ${SIMSNAP_RUNTIME.name} target, split as the stack bundles it; ms of a whole ` +
      `fresh Node ${process.versions.node} process, median of ${imports}, in turns; × = /empty`,
  );
  console.log(
    `${"".padEnd(38)}${"CPU (user + system)".padEnd(39)}${"wall, spawn to exit".padEnd(39)}`,
  );
  console.log(
    `${"function".padEnd(20)} ${"at init".padStart(8)} ${"in all".padStart(8)}  ` +
      `${MEASURE_HEADER}   ${MEASURE_HEADER}  ≤ 1 MB  SDK clients (on first use)`,
  );
  for (const name of Object.keys(topology.functions) as FunctionName[]) {
    const functionDir = join(outDir, name);
    const metafile = await splitBundle(topology.functions[name].entry, functionDir);
    const split = splitOf(metafile);
    const bytesOf = async (paths: readonly string[]) =>
      (await Promise.all(paths.map(async (path) => (await stat(resolveOutput(path))).size))).reduce(
        (a, b) => a + b,
        0,
      );
    const initBytes = await bytesOf(split.init);
    const allBytes = await bytesOf(split.all);
    const unresolvable = staticExternalImports(metafile);
    if (unresolvable.length > 0) {
      failures.push(`${name} imports ${unresolvable.join(", ")} statically`);
    }
    if (allBytes > LIMIT_BYTES) failures.push(`${name} is ${allBytes} bytes minified`);
    const atInit = sdkClients(metafile, split.init);
    if (atInit.length > 0) failures.push(`${name} loads ${atInit.join(", ")} at cold start`);
    const figures = await measure(
      join(functionDir, "index.mjs"),
      split.deferred.map((path) => resolveOutput(path)),
      dummyEnvironment(name),
      outDir,
    );
    ratios.cpu.push(figures.imported.cpu / figures.empty.cpu);
    ratios.wall.push(figures.imported.wall / figures.empty.wall);
    console.log(
      `${name.padEnd(20)} ${kib(initBytes).padStart(8)} ${kib(allBytes).padStart(8)}  ` +
        `${columns(figures, "cpu")}   ${columns(figures, "wall")}  ` +
        `${(allBytes <= LIMIT_BYTES ? "yes" : "NO").padEnd(6)}  ` +
        sdkClients(metafile, split.all).join(" "),
    );
    if (!heaviest || initBytes > heaviest.bytes) {
      heaviest = { name, bytes: initBytes, metafile, init: split.init };
    }
  }
  const floorDir = join(outDir, "floor");
  const floorMetafile = await splitBundle(FLOOR_ENTRY, floorDir);
  const floorBytes = (await stat(join(floorDir, "index.mjs"))).size;
  const floor = await measure(join(floorDir, "index.mjs"), [], BASE_ENVIRONMENT, outDir);
  console.log(
    `${"floor".padEnd(20)} ${kib(floorBytes).padStart(8)} ${kib(floorBytes).padStart(8)}  ` +
      `${columns(floor, "cpu")}   ${columns(floor, "wall")}  ` +
      `(${Object.keys(floorMetafile.inputs).length} modules: middy, Powertools, zod)`,
  );
  for (const measure of ["cpu", "wall"] as const) {
    const byMeasure = ratios[measure];
    const meeting = (Object.keys(topology.functions) as FunctionName[]).filter(
      (_, i) => (byMeasure[i] ?? Infinity) <= 2,
    );
    console.log(
      `${measure === "cpu" ? "\nCPU " : "wall"} import/empty: median ${median(byMeasure).toFixed(2)}×, ` +
        `${Math.min(...byMeasure).toFixed(2)}–${Math.max(...byMeasure).toFixed(2)}×; ` +
        `floor ${(floor.imported[measure] / floor.empty[measure]).toFixed(2)}×; ` +
        `≤ 2×: ${meeting.length} of ${byMeasure.length}${meeting.length > 0 ? ` (${meeting.join(", ")})` : ""}`,
    );
  }
  if (heaviest) {
    console.log(`heaviest packages in what ${heaviest.name}'s cold start loads:`);
    for (const [pkg, bytes] of weightByPackage(heaviest.metafile, heaviest.init).slice(0, 8)) {
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
