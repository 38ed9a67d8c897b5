import { CreateBucketCommand } from "@aws-sdk/client-s3";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as archiveEntry from "../../functions/archive-checkpoint.ts";
import type * as pruneEntry from "../../functions/prune.ts";
import type * as restoreEntry from "../../functions/restore-checkpoint.ts";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import archiveSample from "../events/sqs/archive-request.json" with { type: "json" };
import pruneSample from "../events/sqs/prune-request.json" with { type: "json" };
import restoreSample from "../events/sqs/restore-step.json" with { type: "json" };
import { job } from "../support/checkpoint-factory.ts";
import { FILES_BUCKET, filesRecord, writeHfCheckpoint } from "../support/files-world.ts";
import {
  FUNCTION_ENV_NAMES,
  invoke,
  startFunctionEnv,
  withBody,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let objects: S3ObjectStore;
let archive: typeof archiveEntry;
let prune: typeof pruneEntry;
let restore: typeof restoreEntry;

beforeAll(async () => {
  env = await startFunctionEnv();
  await env.aws.s3.send(new CreateBucketCommand({ Bucket: FILES_BUCKET }));
  objects = new S3ObjectStore(env.aws.s3);
  Object.assign(process.env, {
    SIMSNAP_FILES_BUCKET: FILES_BUCKET,
    SIMSNAP_FILE_SOURCES: JSON.stringify([{ prefix: "runs", preset: "huggingface" }]),
    SIMSNAP_RETENTION: JSON.stringify({ default: { keepLast: 1 }, maxRemoveFraction: 1 }),
  });
  archive = await import("../../functions/archive-checkpoint.ts");
  prune = await import("../../functions/prune.ts");
  restore = await import("../../functions/restore-checkpoint.ts");
  for (const step of [100, 200]) {
    const key = await writeHfCheckpoint(objects, { step, files: 4 });
    const createdAt = new Date(Date.UTC(2026, 10, 30, step / 100)).toISOString();
    await env.catalog.create(filesRecord(key, { id: `s${step}`, createdAt, step }));
  }
}, 60_000);
afterAll(() => env?.close());

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of objects.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

const archiveOf = (id: string) => withBody(archiveSample as SQSEvent, { checkpointId: id });

describe("the functions on files checkpoints (sets of objects)", () => {
  it("archive-checkpoint archives a set once, however often the message comes", async () => {
    for (const id of ["s100", "s200"]) {
      const first = await invoke(archive.handler, archiveOf(id));
      expect(first.result).toEqual({ batchItemFailures: [] });
    }
    const archived = await env.catalog.get("s100");
    expect(archived?.archive).toMatchObject({
      bucket: FUNCTION_ENV_NAMES.archiveBucket,
      key: "files/runs/exp7/checkpoint-100/s100.manifest.json",
      objects: 4,
    });

    const again = await invoke(archive.handler, archiveOf("s100"));

    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get("s100")).toEqual(archived);
    expect(env.events.filter((e) => e["detail-type"] === "Checkpoint Archived")).toHaveLength(2);
  });

  it("prune deletes the pruned set's objects and marks it DELETED; the same message again changes nothing", async () => {
    const message = withBody(pruneSample as SQSEvent, {
      source: "manual",
      requestId: "files-prune-1",
      simulation: "exp7",
      dryRun: false,
    });

    const first = await invoke(prune.handler, message);
    expect(first.result).toEqual({ batchItemFailures: [] });
    expect(await keysUnder("runs/exp7/checkpoint-100/")).toEqual([]);
    expect(await keysUnder("runs/exp7/checkpoint-200/")).toHaveLength(4);
    const deleted = await env.catalog.get("s100");
    expect(deleted?.state).toBe("DELETED");

    const again = await invoke(prune.handler, message);
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get("s100")).toEqual(deleted);
    expect((await env.catalog.get("s200"))?.state).toBe("COMPLETE");
  });

  it("restore-checkpoint copies the pruned set back from its archive once, for a step delivered twice", async () => {
    const step = JSON.parse(restoreSample.Records[0]!.body) as { jobId: string; dueAt: string };
    await env.jobs.create(
      job({
        id: step.jobId,
        kind: "restore",
        simulation: "exp7",
        checkpointId: "s100",
        startTime: step.dueAt,
        nextCheckAt: step.dueAt,
        deadline: "2099-01-01T00:00:00.000Z",
        restore: {
          target: "exp7",
          clientToken: "files-restore-1",
          phase: "locating",
          into: "prefix",
          prefix: "runs/restored/s100/",
        },
      }),
    );

    const first = await invoke(restore.handler, restoreSample as SQSEvent);
    const again = await invoke(restore.handler, restoreSample as SQSEvent);

    expect(first.result).toEqual({ batchItemFailures: [] });
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(await env.jobs.get(step.jobId)).toMatchObject({
      status: "SUCCEEDED",
      stats: { objects: 4 },
      restore: { uri: `s3://${FILES_BUCKET}/runs/restored/s100/` },
    });
    expect(await keysUnder("runs/restored/s100/")).toHaveLength(4);
    expect(env.events.filter((e) => e["detail-type"] === "Checkpoint Restored")).toHaveLength(1);
  });
});
