import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/discover-files.ts";
import { fileCheckpointId } from "../../lib/domain/file-discovery.ts";
import { FILES_SCAN_SCHEDULE, scheduleInput } from "../../lib/topology.ts";
import deleted from "../events/s3/checkpoint-object-deleted.json" with { type: "json" };
import tick from "../events/scheduler/discover-files.json" with { type: "json" };
import sample from "../events/sqs/file-event.json" with { type: "json" };
import { sleep } from "../support/async.ts";
import {
  FUNCTION_ENV_NAMES,
  INVALID_MESSAGE_ID,
  invoke,
  rejectionLine,
  startFunctionEnv,
  withBody,
  withInvalidRecord,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;
let scanHandler: typeof entry.scanHandler;

const bucket = FUNCTION_ENV_NAMES.bucket;
// The Hugging Face preset, settling 3 s after its marker so a re-check is due within the test,
// and long enough that a loaded machine still hands the first event over while it is settling.
const SETTLE_SECONDS = 3;

beforeAll(async () => {
  env = await startFunctionEnv({
    fileSources: [
      {
        prefix: "training/runs",
        preset: "huggingface",
        commit: { marker: "trainer_state.json", settleSeconds: SETTLE_SECONDS },
      },
    ],
  });
  ({ handler, scanHandler } = await import("../../functions/discover-files.ts"));
});
afterAll(() => env?.close());

const created = JSON.parse(sample.Records[0]!.body) as {
  detail: { bucket: { name: string }; object: { key: string } };
};
const createdAt = (key: string) => ({
  ...created,
  detail: { ...created.detail, object: { ...created.detail.object, key } },
});

/** Writes a Hugging Face checkpoint's files, the marker last unless it is half-written. */
async function writeCheckpoint(step: number, options: { marker?: boolean; loss?: number } = {}) {
  const key = `training/runs/bert-demo/checkpoint-${step}/`;
  await env.putObject(`${key}config.json`, '{"hidden": 64}');
  await env.putObject(`${key}model.safetensors`, "weights");
  if (options.marker !== false) {
    await env.putObject(
      `${key}trainer_state.json`,
      JSON.stringify({ global_step: step, log_history: [{ eval_loss: options.loss ?? 0.5 }] }),
    );
  }
  return key;
}

/** The messages discover-files sent to its own queue, once their delay has passed. */
async function rechecks(within = SETTLE_SECONDS * 1000 + 5_000): Promise<unknown[]> {
  const deadline = Date.now() + within;
  for (;;) {
    const received = await env.received("file-events");
    if (received.length > 0 || Date.now() > deadline) return received;
    await sleep(200);
  }
}

describe("functions/discover-files", () => {
  it("catalogs a checkpoint from S3's event as SQS delivers it, and completes it at its re-check", async () => {
    const key = await writeCheckpoint(300, { loss: 0.42 });
    expect(created.detail.object.key).toBe(`${key}trainer_state.json`);

    const first = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(first.result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    const id = fileCheckpointId(bucket, key);
    expect(await env.catalog.get(id)).toMatchObject({
      provider: "files",
      simulation: "bert-demo",
      state: "PENDING",
      step: 300,
      location: { bucket, key },
    });
    expect(first.lines).toContainEqual(rejectionLine("file event", first.context));

    // Settling: one delayed message naming the checkpoint, delivered when the period ends.
    const [recheck, ...more] = await rechecks();
    expect(more).toEqual([]);
    expect(recheck).toEqual({ recheck: { bucket, key, dueAt: expect.any(String) } });

    const second = await invoke(handler, withBody(sample, recheck) as SQSEvent);

    expect(second.result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get(id)).toMatchObject({
      state: "COMPLETE",
      metrics: { eval_loss: 0.42 },
    });
    expect(env.events.map((e) => [e["detail-type"], e.detail])).toEqual([
      [
        "Checkpoint Completed",
        expect.objectContaining({
          checkpoint: expect.objectContaining({
            provider: "files",
            step: 300,
            metrics: { eval_loss: 0.42 },
          }) as unknown,
        }),
      ],
    ]);
  });

  it("changes nothing when the same event arrives again", async () => {
    const key = "training/runs/bert-demo/checkpoint-300/";
    const before = await env.catalog.get(fileCheckpointId(bucket, key));
    const events = env.events.length;

    const { result } = await invoke(handler, sample as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get(fileCheckpointId(bucket, key))).toEqual(before);
    expect(env.events).toHaveLength(events);
    expect(await env.received("file-events")).toEqual([]);
  });

  it("keeps a half-written checkpoint PENDING, and fails it when its objects are deleted", async () => {
    const key = await writeCheckpoint(400, { marker: false });
    expect(deleted.detail.object.key).toBe(`${key}model.safetensors`);
    const id = fileCheckpointId(bucket, key);

    await invoke(handler, withBody(sample, createdAt(`${key}model.safetensors`)) as SQSEvent);

    expect((await env.catalog.get(id))?.state).toBe("PENDING");
    // No marker: time alone will not complete it, so nothing is scheduled.
    expect(await env.received("file-events")).toEqual([]);

    for (const file of ["config.json", "model.safetensors"]) {
      await env.aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key + file }));
    }
    env.events.length = 0;
    const { result } = await invoke(handler, withBody(sample, deleted) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get(id)).toMatchObject({
      state: "FAILED",
      error: { code: "CheckpointVanished" },
    });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Failed"]);
  });

  it("skips, without failing, a key of no checkpoint (a temporary name, another prefix)", async () => {
    const { result, lines } = await invoke(
      handler,
      withBody(
        sample,
        createdAt("training/runs/bert-demo/tmp-checkpoint-500/model.safetensors"),
      ) as SQSEvent,
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "Files checkpoint discovered",
        skipped: [
          {
            key: "training/runs/bert-demo/tmp-checkpoint-500/model.safetensors",
            reason: expect.stringMatching(/no checkpoint of source training\/runs/) as unknown,
          },
        ],
      }),
    );
  });

  it("is invoked with the input of the discover-files schedule", () => {
    expect(tick).toEqual(scheduleInput(FILES_SCAN_SCHEDULE, tick.scheduledTime));
  });

  it("scans the sources on its schedule, cataloging what no event announced", async () => {
    const key = await writeCheckpoint(600, { loss: 0.3 });
    await sleep(SETTLE_SECONDS * 1000 + 100);
    env.events.length = 0;

    const { result, lines } = await invoke(scanHandler, tick);

    expect(result?.completed.map((c) => c.id)).toEqual([fileCheckpointId(bucket, key)]);
    expect(await env.catalog.get(fileCheckpointId(bucket, key))).toMatchObject({
      state: "COMPLETE",
      metrics: { eval_loss: 0.3 },
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "Files sources scanned",
        schedule: "discover-files",
        completed: 1,
      }),
    );
    // A second scan finds the catalog in agreement with the bucket.
    const again = await invoke(scanHandler, tick);
    expect(again.result).toMatchObject({ created: [], completed: [], failed: [], rechecks: [] });
  });
});
