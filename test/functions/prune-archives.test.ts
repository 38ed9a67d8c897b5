import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/prune-archives.ts";
import { DynamoDbRetentionBaseStore } from "../../lib/adapters/dynamodb/retention-base-store.ts";
import { scheduleInput, topology } from "../../lib/topology.ts";
import tick from "../events/scheduler/archive-prune-daily.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import {
  FUNCTION_ENV_NAMES,
  invoke,
  startFunctionEnv,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  process.env.SIMSNAP_ARCHIVE_RETENTION = JSON.stringify({
    default: { keepLast: 1 },
    maxRemoveFraction: 1,
  });
  ({ handler } = await import("../../functions/prune-archives.ts"));
});
afterAll(() => env?.close());

const exists = (key: string) => env.objectExists(key, FUNCTION_ENV_NAMES.archiveBucket);

describe("functions/prune-archives", () => {
  it("is invoked with the input of the archive-prune-daily schedule", () => {
    const spec = topology.schedules.find((s) => s.name === "archive-prune-daily")!;
    expect(tick).toEqual(scheduleInput(spec, tick.scheduledTime));
  });

  it("removes the archive copies retention no longer keeps, logging with the request id", async () => {
    const keys: string[] = [];
    for (const day of [1, 2]) {
      const at = `2026-11-0${day}T10:00:00.000Z`;
      const key = `traffic-sim/2026/11/traffic-sim-26110${day}-1000-00.zip`;
      await env.putObject(key, "archived", FUNCTION_ENV_NAMES.archiveBucket);
      await env.catalog.create(
        checkpoint({
          id: `archived-${day}`,
          simulation: "traffic-sim",
          createdAt: at,
          completedAt: at,
          archive: {
            bucket: FUNCTION_ENV_NAMES.archiveBucket,
            key,
            storageClass: "STANDARD_IA",
            archivedAt: at,
          },
        }),
      );
      keys.push(key);
    }

    const { result, lines, context } = await invoke(handler, tick);

    expect(result).toEqual([
      { simulation: "traffic-sim", outcome: "pruned", removed: 1, failed: 0 },
    ]);
    expect(await exists(keys[0]!)).toBe(false);
    expect(await exists(keys[1]!)).toBe(true);
    expect((await env.catalog.get("archived-1"))?.archive).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({
        message: "Archive retention run",
        schedule: tick.schedule,
        simulation: "traffic-sim",
        removed: 1,
        function_request_id: context.awsRequestId,
      }),
    ]);
    // The approved plan became the simulation's archive base, named after the tick.
    const bases = new DynamoDbRetentionBaseStore(env.aws.doc, FUNCTION_ENV_NAMES.table);
    expect(await bases.get("archives", "traffic-sim")).toMatchObject({
      runId: "archive-prune-daily/2026-11-23T03:30:00Z",
      newest: "2026-11-02T10:00:00.000Z",
    });
    expect(await bases.get("checkpoints", "traffic-sim")).toBeUndefined();
  });
});
