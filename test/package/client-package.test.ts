import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerLockfile, type Lockfile } from "../support/consumer-lock.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";

// The client as another project gets it: packed (which builds it), installed from the tarball
// into a throwaway project, then used from plain Node ESM and compiled by a strict `tsc`. Nothing
// here reaches into packages/client/src: a `.ts` export, a missing `.d.ts`, a dependency left
// out of the package's manifest or one of the local stack's packages pulled in fails it.

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");
const CLIENT = "@simsnap/client";

/** What the consumer runs: a snapshot through a signing fetch, then a 404 as a typed error. */
const SCRIPT = `
import { SimsnapClient, SimsnapNotFoundError, executeApiRegion, sigV4Fetch } from "${CLIENT}";

const client = new SimsnapClient({
  endpoint: process.env.SIMSNAP_ENDPOINT,
  retries: 0,
  fetch: sigV4Fetch({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" },
  }),
});
const job = await client.simulations.snapshot(
  "ocean currents",
  { name: "before upgrade" },
  { idempotencyKey: "key-1" },
);
const missing = await client.checkpoints.get("nope").catch((error) => error);
console.log(JSON.stringify({
  job,
  notFound: missing instanceof SimsnapNotFoundError,
  code: missing.code,
  region: executeApiRegion("https://abc.execute-api.eu-west-1.amazonaws.com/prod"),
}));
`;

/** What a TypeScript consumer writes; the `@ts-expect-error` lines fail if the types were `any`. */
const CONSUMER_TS = `
import {
  SimsnapClient,
  SimsnapConflictError,
  sigV4Fetch,
  type Checkpoint,
  type Job,
  type PruneResult,
} from "${CLIENT}";

export async function favorites(endpoint: string): Promise<string[]> {
  const client = new SimsnapClient({ endpoint, fetch: sigV4Fetch({ region: "eu-west-1" }) });
  const names: string[] = [];
  for await (const checkpoint of client.checkpoints.list({ favorite: true, ordering: "-createdAt" })) {
    const kept: Checkpoint = checkpoint;
    names.push(kept.name);
  }
  const job: Job = await client.jobs.wait("job-1", { timeoutMs: 1_000 });
  const result: PruneResult = await client.prune({ dryRun: true });
  if (result.dryRun) names.push(...result.plans.map((plan) => plan.simulation));
  try {
    await client.checkpoints.delete(job.checkpointId ?? "none");
  } catch (error) {
    if (error instanceof SimsnapConflictError) names.push(error.code);
  }
  // @ts-expect-error a job's status is one of four words
  const status: "DONE" = job.status;
  // @ts-expect-error ordering names a field of a checkpoint
  await client.checkpoints.page({ ordering: "size" });
  return [...names, status];
}
`;

/** The npm packages the local stack needs and a client must never pull in. */
const LOCAL_STACK = ["dynalite", "s3rver", "local-aws-sqs", "esbuild", "tsx", "zod", "aws-cdk-lib"];

let dir: string;
let consumer: string;
let stub: HttpStub;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "simsnap-client-package-"));
  consumer = join(dir, "consumer");
  const { stdout } = await run(
    "npm",
    ["pack", "--workspace", CLIENT, "--pack-destination", dir, "--json", "--silent"],
    { cwd: root },
  );
  const [packed] = JSON.parse(stdout) as { filename: string; integrity: string }[];
  if (!packed) throw new Error(`npm pack said nothing: ${stdout}`);
  const manifest = JSON.parse(
    await readFile(join(root, "packages/client/package.json"), "utf8"),
  ) as { version: string; dependencies: Record<string, string> };
  const repository = JSON.parse(
    await readFile(join(root, "package-lock.json"), "utf8"),
  ) as Lockfile;
  const typesNode = repository.packages["node_modules/@types/node"];
  if (!typesNode?.version) throw new Error("@types/node is not in the lockfile");
  const tarball = `file:../${packed.filename}`;
  const lock = consumerLockfile(repository, "consumer", [
    {
      name: CLIENT,
      spec: tarball,
      entry: {
        version: manifest.version,
        resolved: tarball,
        integrity: packed.integrity,
        dependencies: manifest.dependencies,
      },
      resolvesFrom: "packages/client",
    },
    { name: "@types/node", spec: typesNode.version, entry: typesNode, resolvesFrom: "" },
  ]);
  await mkdir(consumer);
  await writeFile(
    join(consumer, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: lock.packages[""]?.dependencies,
    }),
  );
  await writeFile(join(consumer, "package-lock.json"), JSON.stringify(lock, null, 2));
  await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: consumer,
  });
  await writeFile(join(consumer, "script.mjs"), SCRIPT);
  await writeFile(join(consumer, "consumer.ts"), CONSUMER_TS);
  stub = await startHttpStub(({ method, url }) =>
    method === "POST" && url === "/simulations/ocean%20currents/snapshots"
      ? { status: 202, json: { id: "job-1", kind: "snapshot", status: "RUNNING" } }
      : { status: 404, json: { error: { code: "NotFound", message: `${url} is not there` } } },
  );
}, 120_000);

afterAll(async () => {
  await stub?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the packed @simsnap/client", () => {
  it("installs without any package of the local stack", async () => {
    const installed = await readdir(join(consumer, "node_modules"));
    expect(installed).toContain("@simsnap");
    expect(installed.filter((name) => LOCAL_STACK.includes(name))).toEqual([]);
    const files = await readdir(join(consumer, "node_modules", CLIENT, "dist"));
    expect(files.filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))).toEqual([]);
  });

  it("runs from plain Node ESM and signs its requests with SigV4", async () => {
    const { stdout } = await run(process.execPath, ["script.mjs"], {
      cwd: consumer,
      env: { ...process.env, SIMSNAP_ENDPOINT: stub.url },
    });
    expect(JSON.parse(stdout)).toEqual({
      job: { id: "job-1", kind: "snapshot", status: "RUNNING" },
      notFound: true,
      code: "NotFound",
      region: "eu-west-1",
    });

    const [snapshot] = stub.requests;
    const authorization = String(snapshot?.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
    expect(signedHeaders).toEqual(
      expect.arrayContaining(["host", "x-amz-date", "content-type", "idempotency-key"]),
    );
    expect(snapshot?.body).toEqual({ name: "before upgrade" });

    // The request as it arrived, signed again with the same key and time, gives the same
    // signature: the path, headers and body the server saw are the ones that were signed.
    const url = new URL(snapshot?.url ?? "/", stub.url);
    const amzDate = String(snapshot?.headers["x-amz-date"]);
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
    );
    const headers = Object.fromEntries(
      signedHeaders.map((name) => [name, String(snapshot?.headers[name])]),
    );
    const expected = await new SignatureV4({
      service: "execute-api",
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" },
      sha256: Sha256,
    }).sign(
      new HttpRequest({
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        headers,
        body: JSON.stringify(snapshot?.body),
      }),
      { signingDate },
    );
    expect(authorization).toBe(expected.headers.authorization);
  });

  it("compiles in a strict TypeScript consumer (module nodenext), its types checked too", async () => {
    const result = await run(
      process.execPath,
      [
        tsc,
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        "--types",
        "node",
        "--noEmit",
        "consumer.ts",
      ],
      { cwd: consumer },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    expect(result.stdout).toBe("");
  }, 60_000);
});
