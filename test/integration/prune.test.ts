import { GetObjectCommand, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { RetentionConfigSchema } from "../../lib/domain/retention.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import { loadSimulationCheckpoints } from "../../lib/usecases/catalog/list-checkpoints.ts";
import { prune, type PruneDeps } from "../../lib/usecases/retention/prune.ts";
import { putObjects, seedCheckpoints } from "../support/catalog-seed.ts";
import { checkpoint as makeCheckpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock, MemoryEventPublisher } from "../support/memory.ts";

const BUCKET = "prune-it";
const TABLE = "prune-it";
const HOUR = 3_600_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");

/** Counts DeleteObjects requests and can make one of them fail as S3 would (a 500). */
function instrument(s3: S3Client) {
  const state = { deleteCalls: 0, failCall: 0 };
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteObjectsCommand") {
        state.deleteCalls += 1;
        if (state.deleteCalls === state.failCall) {
          throw Object.assign(new Error("We encountered an internal error. Please try again."), {
            name: "InternalError",
            $metadata: { httpStatusCode: 500 },
          });
        }
      }
      return next(args);
    },
    { step: "initialize", name: "countDeleteObjects" },
  );
  return state;
}

describe("prune on the local S3 and DynamoDB", () => {
  let aws: LocalAws;
  let deps: PruneDeps;
  let s3calls: ReturnType<typeof instrument>;
  let objects: S3ObjectStore;
  let checkpoints: DynamoDbCheckpointStore;

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: [BUCKET], catalogTables: [TABLE] });
    s3calls = instrument(aws.s3);
    objects = new S3ObjectStore(aws.s3);
    checkpoints = new DynamoDbCheckpointStore(aws.doc, TABLE);
    deps = {
      checkpoints,
      jobs: new DynamoDbJobStore(aws.doc, TABLE),
      objects,
      events: new MemoryEventPublisher(),
      clock: new ManualClock(new Date(T0 + 3000 * HOUR)),
      retention: RetentionConfigSchema.parse({ default: { keepLast: 250 }, maxRemoveFraction: 1 }),
      reports: { bucket: BUCKET, prefix: "simsnap" },
      archiveFirst: false,
      owned: { bucket: BUCKET, prefixes: ["simsnap"] },
      providers: directoryOf([]),
    };
  }, 120_000);
  afterAll(() => aws.close());

  /**
   * The files and their COMPLETE records, written in bulk (batched catalog writes, concurrent
   * puts): the starting point of the test, not what it is about.
   */
  async function seed(simulation: string, count: number): Promise<Checkpoint[]> {
    const records = Array.from({ length: count }, (_, i): Checkpoint => {
      const time = new Date(T0 + i * HOUR);
      return makeCheckpoint({
        id: `${simulation}-${i}`,
        simulation,
        provider: "simspaceweaver",
        name: `${simulation} ${i}`,
        createdAt: time.toISOString(),
        location: { bucket: BUCKET, key: snapshotKey("simsnap", simulation, time) },
        size: 3,
      });
    });
    await Promise.all([
      putObjects(
        aws.s3,
        records.map((record) => record.location!),
        "zip",
      ),
      seedCheckpoints(aws.doc, TABLE, records),
    ]);
    return records;
  }

  /** Every key in the bucket, read with a few listings instead of a HEAD per file. */
  async function storedKeys(): Promise<Set<string>> {
    const keys = new Set<string>();
    for await (const page of paginateListObjectsV2({ client: aws.s3 }, { Bucket: BUCKET })) {
      for (const object of page.Contents ?? []) keys.add(object.Key!);
    }
    return keys;
  }

  /** Every DELETED record's file is gone; every COMPLETE record's file is there. */
  async function expectConsistent(simulation: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const stored = await storedKeys();
    for (const checkpoint of await loadSimulationCheckpoints(checkpoints, simulation)) {
      counts[checkpoint.state] = (counts[checkpoint.state] ?? 0) + 1;
      expect(stored.has(checkpoint.location!.key), `${checkpoint.id} is ${checkpoint.state}`).toBe(
        checkpoint.state === "COMPLETE",
      );
    }
    return counts;
  }

  it("prunes 2,500 checkpoints with exactly 3 DeleteObjects calls and leaves the catalog consistent", async () => {
    const records = await seed("big-sim", 2500);
    expect(await checkpoints.get(records[0]!.id)).toEqual(records[0]);
    expect(await checkpoints.listSimulations()).toContain("big-sim");
    s3calls.deleteCalls = 0;

    const [result] = await prune(
      { runId: "it/1", simulations: ["big-sim"], dryRun: false, force: false },
      deps,
    );

    expect(s3calls.deleteCalls).toBe(3);
    expect(result).toMatchObject({ outcome: "pruned", failed: [] });
    expect(result!.removed).toHaveLength(2250);
    expect(await expectConsistent("big-sim")).toEqual({ COMPLETE: 250, DELETED: 2250 });
    const stored = await aws.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: result!.report!.key }),
    );
    const report = JSON.parse(await stored.Body!.transformToString());
    expect(report.keep).toHaveLength(250);
    expect(report.keep[0].reasons).toEqual(["last snapshot"]);
    expect(report.removed).toHaveLength(2250);
  }, 180_000);

  it("survives a failure in the middle: nothing DELETED keeps its file, and a rerun converges", async () => {
    await seed("flaky-sim", 1500);
    s3calls.deleteCalls = 0;
    s3calls.failCall = 2;

    await expect(
      prune({ runId: "it/2", simulations: ["flaky-sim"], dryRun: false, force: false }, deps),
    ).rejects.toThrow(/internal error/);
    const afterFailure = await expectConsistent("flaky-sim");
    expect(afterFailure).toEqual({ COMPLETE: 500, DELETED: 1000 });

    s3calls.failCall = 0;
    const [rerun] = await prune(
      { runId: "it/2", simulations: ["flaky-sim"], dryRun: false, force: false },
      deps,
    );

    expect(rerun!.outcome).toBe("pruned");
    expect(await expectConsistent("flaky-sim")).toEqual({ COMPLETE: 250, DELETED: 1250 });
  }, 180_000);
});
