import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/archive-checkpoint.ts";
import sample from "../events/sqs/archive-request.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
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

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/archive-checkpoint.ts"));
});
afterAll(() => env?.close());

const completed = JSON.parse(sample.Records[0]!.body) as {
  detail: {
    checkpoint: { id: string; simulation: string; location: { bucket: string; key: string } };
  };
};

describe("functions/archive-checkpoint", () => {
  it("skips a checkpoint NVIDIA Air holds, saying why, instead of failing the message", async () => {
    const id = "cp-air-held";
    await env.catalog.create(
      checkpoint({
        id,
        simulation: "air-lab",
        provider: "air",
        platformId: "7b0e6f4e-6d0c-4a47-9d0b-8c1a2f3e4d5c",
        location: undefined,
        size: undefined,
      }),
    );
    const body = JSON.parse(sample.Records[0]!.body) as { detail: { checkpoint: object } };
    body.detail.checkpoint = { ...body.detail.checkpoint, id, simulation: "air-lab" };

    const { result, lines } = await invoke(handler, withBody(sample as SQSEvent, body));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(JSON.stringify(lines)).toMatch(
      /air, whose API offers no checkpoint bytes \(archivable: false\)/,
    );
    expect((await env.catalog.get(id))?.archive).toBeUndefined();
  });

  it("ends a request for a COMPLETE checkpoint whose file is gone with a warning, not the DLQ", async () => {
    const id = "cp-file-gone";
    const location = { bucket: FUNCTION_ENV_NAMES.bucket, key: "simsnap/snapshot/gone.zip" };
    await env.catalog.create(checkpoint({ id, simulation: "traffic-sim", location, size: 6 }));
    const body = JSON.parse(sample.Records[0]!.body) as { detail: { checkpoint: object } };
    body.detail.checkpoint = { ...body.detail.checkpoint, id, location };
    const event = withBody(sample as SQSEvent, body);
    // The second delivery: the first waited for a delete in progress to mark the record DELETED.
    event.Records[0]!.attributes.ApproximateReceiveCount = "2";

    const { result, lines, context } = await invoke(handler, event);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "Archive impossible",
        checkpointId: id,
        function_request_id: context.awsRequestId,
        reason: expect.stringMatching(/gone.zip is gone, yet the checkpoint is still COMPLETE/),
      }),
    ]);
    expect((await env.catalog.get(id))?.archive).toBeUndefined();
  });

  it("copies a completed checkpoint's file to the archive bucket and records the copy", async () => {
    const { id, simulation, location } = completed.detail.checkpoint;
    await env.putObject(location.key, "hello\n", location.bucket);
    const createdAt = "2026-11-23T10:15:00.000Z";
    await env.catalog.create(checkpoint({ id, simulation, location, size: 6, createdAt }));

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(await env.catalog.get(id)).toMatchObject({
      archive: {
        bucket: FUNCTION_ENV_NAMES.archiveBucket,
        key: "traffic-sim/2026/11/traffic-sim-261123-1015-30.zip",
      },
    });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Archived"]);
    expect(lines).toEqual([rejectionLine("archive request", context)]);
  });
});
