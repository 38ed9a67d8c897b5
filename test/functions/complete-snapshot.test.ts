import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/complete-snapshot.ts";
import { deterministicId } from "../../lib/domain/ids.ts";
import sample from "../events/sqs/snapshot-file.json" with { type: "json" };
import {
  INVALID_MESSAGE_ID,
  invoke,
  rejectionLine,
  startFunctionEnv,
  withInvalidRecord,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/complete-snapshot.ts"));
});
afterAll(() => env?.close());

const s3Event = JSON.parse(sample.Records[0]!.body) as {
  detail: { bucket: { name: string }; object: { key: string } };
};

describe("functions/complete-snapshot", () => {
  it("catalogs a snapshot file no job asked for, from S3's event as SQS delivers it", async () => {
    const { bucket, object } = s3Event.detail;
    await env.putObject(object.key, "hello\n", bucket.name);

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(
      await env.catalog.get(deterministicId("discovered", bucket.name, object.key)),
    ).toMatchObject({
      state: "COMPLETE",
      trigger: "discovered",
      simulation: "traffic-sim",
      location: { bucket: bucket.name, key: object.key },
      size: 6,
    });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Completed"]);
    expect(lines).toEqual([rejectionLine("S3 Object Created event", context)]);
  });
});
