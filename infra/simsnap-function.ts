import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  ApplicationLogLevel,
  Architecture,
  type CfnFunction,
  LoggingFormat,
  RecursiveLoop,
  Runtime,
  SystemLogLevel,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import {
  type ICommandHooks,
  NodejsFunction,
  OutputFormat,
  type BundlingOptions,
  type NodejsFunctionProps,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { DEFAULT_HANDLER, topology, type FunctionName, type QueueName } from "../lib/topology.ts";
import { constructId } from "./names.ts";

/**
 * Node.js 24, the current LTS line, pinned rather than `NODEJS_LATEST` so that a CDK upgrade
 * never changes the runtime behind our back; cdk-nag's AwsSolutions-L1 wants the newest one.
 */
export const SIMSNAP_RUNTIME = Runtime.NODEJS_24_X;

/**
 * What every function's environment holds beside its declaration's settings, exported so that
 * bench/bundle.ts starts its bundles as Lambda does (source maps cost a cold start a few ms).
 */
export const SIMSNAP_FUNCTION_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: "simsnap",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  NODE_OPTIONS: "--enable-source-maps",
} as const;

/** Topology entries are relative to the repository root, not to the process's working directory. */
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * esbuild's ESM output has no `require`, yet CommonJS dependencies bundled into it may still call
 * it for Node built-ins; the aliased import cannot collide with a bundled module's own names.
 */
const requireBanner =
  "import { createRequire as __simsnapCreateRequire } from 'node:module';" +
  "const require = __simsnapCreateRequire(import.meta.url);";

/**
 * Credential providers of the SDK's default chain that read a profile, an SSO cache, a process or
 * a web identity token file. Lambda hands its credentials over in environment variables, which the
 * chain tries first, so these are never loaded there; the chain loads them with dynamic `import()`,
 * so leaving them out of the bundle (with the STS, SSO and sign-in clients they bring) cannot fail
 * a cold start. bench/bundle.ts checks that no bundle imports them statically.
 */
const UNREACHABLE_IN_LAMBDA = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-web-identity",
];

/**
 * How every function is bundled (esbuild, locally, never Docker): aws-lambda-nodejs's run, then
 * `splitBundleCommand`'s with the same options, which bench/bundle.ts runs to measure the very
 * bundles Lambda gets. The AWS SDK is bundled, not taken from the runtime: the lockfile pins the
 * SDK and the @smithy packages our own SimSpace Weaver client is built on, and the runtime's copy
 * would be a different, unpinned version. Naming `externalModules` replaces CDK's default of
 * leaving out every `@aws-sdk/*` package.
 */
export const SIMSNAP_BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ["module", "main"],
  banner: requireBanner,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: UNREACHABLE_IN_LAMBDA,
} satisfies BundlingOptions;

/**
 * After aws-lambda-nodejs's esbuild run (`--outfile`, one file), every function is bundled again
 * split at its `import()`s (`splitBundleCommand`): a cold start then loads only `index.mjs` and
 * what it imports, not the AWS SDK clients the wiring imports on first use. The API function also
 * serves the web console at `/` (docs/console.md): its files are built from console/ beside the
 * function's bundle, in `console/`, where `functions/api.ts` looks for them.
 */
function afterBundling(name: FunctionName): ICommandHooks {
  const entry = topology.functions[name].entry;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => [
      `cd ${shellQuote(inputDir)} && ${splitBundleCommand(entry, outputDir).map(shellQuote).join(" ")}`,
      ...(name === topology.httpApi.target
        ? [
            `cd "${inputDir}" && "${process.execPath}" --import tsx console/build.ts "${outputDir}/console"`,
          ]
        : []),
    ],
  };
}

/** One word for a POSIX shell, whatever it holds (the banner has quotes and semicolons). */
const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * The command that bundles `entry` (relative to the repository root, where it runs) into
 * `outdir` split at every `import()`: `index.mjs` holds what a cold start evaluates, `chunks/`
 * what the wiring imports on first use (each AWS SDK client with its adapters, `deferred` in
 * lib/wiring/declared.ts) and the code both share. aws-lambda-nodejs runs esbuild with
 * `--outfile`, which cannot split; in one file esbuild inlines an `import()` target, where Node
 * still parses it and loads the built-ins it imports (HTTP, crypto, streams) at every cold start.
 * So this runs after it, over its output. Everything else is `SIMSNAP_BUNDLING`, translated as
 * aws-lambda-nodejs translates it; an option this translation does not know throws, so the
 * construct cannot gain a setting the split bundle (and bench/bundle.ts, which runs this very
 * command) silently leaves out.
 */
export function splitBundleCommand(entry: string, outdir: string): string[] {
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
  if (forceDockerBundling) throw new Error("The stack bundles locally, never in Docker");
  if (Object.keys(unknown).length > 0) {
    throw new Error(`splitBundleCommand does not translate ${Object.keys(unknown).join(", ")}`);
  }
  const major = /^nodejs(\d+)/.exec(SIMSNAP_RUNTIME.name)?.[1];
  return [
    process.execPath,
    join(repoRoot, "node_modules", "esbuild", "bin", "esbuild"),
    entry,
    "--bundle",
    "--splitting",
    "--platform=node",
    `--target=node${major}`,
    `--format=${format}`,
    `--outdir=${outdir}`,
    "--entry-names=index",
    "--out-extension:.js=.mjs",
    "--chunk-names=chunks/[name]-[hash]",
    ...(minify ? ["--minify"] : []),
    ...(sourceMap ? ["--sourcemap"] : []),
    ...(sourcesContent ? [] : ["--sources-content=false"]),
    ...externalModules.map((module) => `--external:${module}`),
    // Every chunk is a module of its own, so each gets the banner's `require`.
    `--banner:js=${banner}`,
    `--main-fields=${mainFields.join(",")}`,
    "--log-level=warning",
  ];
}

/** What a function needs beyond its topology entry: the names of the resources it talks to. */
export interface SimsnapFunctionProps {
  name: FunctionName;
  environment: Record<string, string>;
}

/**
 * One place for the defaults every simsnap function shares (runtime, architecture, bundling,
 * logging, tracing), so the stack only wires topology and grants. It owns the role and the log
 * group so that the role carries no AWS managed policy and may write to this log group only.
 */
export class SimsnapFunction extends Construct {
  /** The Lambda function running the entry's `handler` export, which queues and the API invoke. */
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly #props: NodejsFunctionProps;
  readonly #entryPoints = new Map<string, NodejsFunction>();

  constructor(scope: Construct, id: string, props: SimsnapFunctionProps) {
    super(scope, id);
    const spec = topology.functions[props.name];

    this.logGroup = new LogGroup(this, "Logs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `simsnap ${props.name}`,
    });
    this.logGroup.grantWrite(this.role);

    this.#props = {
      entry: join(repoRoot, spec.entry),
      description: spec.description,
      runtime: SIMSNAP_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      recursiveLoop: feedsItself(props.name) ? RecursiveLoop.ALLOW : RecursiveLoop.TERMINATE,
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, "package-lock.json"),
      environment: { ...props.environment, ...SIMSNAP_FUNCTION_ENVIRONMENT },
      bundling: { ...SIMSNAP_BUNDLING, commandHooks: afterBundling(props.name) },
    };
    this.function = new NodejsFunction(this, "Function", {
      ...this.#props,
      handler: DEFAULT_HANDLER,
    });
    this.#entryPoints.set(DEFAULT_HANDLER, this.function);
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support " +
        "no resource-level permissions.",
    });
  }

  /** Every Lambda function of this entry, by the export it runs, `handler`'s first. */
  get entryPoints(): ReadonlyMap<string, NodejsFunction> {
    return this.#entryPoints;
  }

  /**
   * The Lambda function running `exportName` of the entry: `function` for `handler`, otherwise
   * one built on first use for a trigger that names another export (a schedule's `handler` in
   * lib/topology.ts), since a Lambda function runs one export. It is the same code with the same
   * role (so the same grants), log group and environment: everything the stack adds to
   * `function`'s environment, before or after, is resolved into both.
   */
  entryPoint(exportName: string = DEFAULT_HANDLER): NodejsFunction {
    const existing = this.#entryPoints.get(exportName);
    if (existing) return existing;
    const created = new NodejsFunction(this, `${constructId(exportName)}Function`, {
      ...this.#props,
      handler: exportName,
      description: `${this.#props.description} (export ${exportName})`,
    });
    (created.node.defaultChild as CfnFunction).environment = (
      this.function.node.defaultChild as CfnFunction
    ).environment;
    this.#entryPoints.set(exportName, created);
    return created;
  }
}

/**
 * A function that sends to the queue it consumes (conflict retries, repeated status checks) is
 * a deliberate loop, bounded by attempt counts and deadlines in its use case; Lambda's recursion
 * guard would otherwise drop its messages after 16 hops.
 */
function feedsItself(name: FunctionName): boolean {
  const sendsTo: readonly QueueName[] = topology.functions[name].sendsTo;
  return sendsTo.some((queue) => topology.queues[queue].consumer === name);
}
