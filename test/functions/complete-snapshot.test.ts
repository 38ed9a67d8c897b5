import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/complete-snapshot.ts";
import { deterministicId } from "../../lib/domain/ids.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import tick from "../events/scheduler/reconcile-snapshots.json" with { type: "json" };
import sample from "../events/sqs/snapshot-file.json" with { type: "json" };
import {
  INVALID_MESSAGE_ID,
  invoke,
  rejectionLine,
  startFunctionEnv,
  withInvalidRecord,
  FUNCTION_ENV_NAMES,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;
let scanHandler: typeof entry.scanHandler;

/** The scan's grace in this test: a second, so a file written here is soon left behind. */
const GRACE_SECONDS = 1;

beforeAll(async () => {
  env = await startFunctionEnv();
  process.env.SIMSNAP_RECONCILE_GRACE_SECONDS = String(GRACE_SECONDS);
  ({ handler, scanHandler } = await import("../../functions/complete-snapshot.ts"));
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

  it("catalogs, on its schedule, a snapshot file of ours whose event was lost, and nothing else", async () => {
    const { bucket, prefix } = FUNCTION_ENV_NAMES;
    const lost = snapshotKey(prefix, "ocean-currents", new Date("2026-11-23T10:00:00Z"));
    const foreign = snapshotKey("otherteam", "ocean-currents", new Date("2026-11-23T10:00:00Z"));
    await env.putObject(lost, "zip\n");
    await env.putObject(foreign, "zip\n");
    await env.putObject(`${prefix}/trash/x/v2/ocean-currents-261123-1000-00.zip`, "zip\n");
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 100));
    env.events.length = 0;

    const first = await invoke(scanHandler, tick);
    const second = await invoke(scanHandler, tick);

    const id = deterministicId("discovered", bucket, lost);
    expect(first.result).toMatchObject({ schedule: "reconcile-snapshots", cataloged: 1 });
    expect(second.result).toMatchObject({ cataloged: 0, known: 2 });
    expect(await env.catalog.get(id)).toMatchObject({
      state: "COMPLETE",
      trigger: "discovered",
      location: { bucket, key: lost },
    });
    expect(await env.catalog.listSimulations()).toEqual(["ocean-currents", "traffic-sim"]);
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Completed"]);
    expect(first.lines.map((line) => line.message)).toEqual(["Snapshot files reconciled"]);
    // A whole scan in one run saves no place to go on from.
    expect(await env.objectExists(`${prefix}/reports/reconcile-snapshots/cursor.json`)).toBe(false);
  });
});
