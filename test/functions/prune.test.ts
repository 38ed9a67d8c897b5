import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/prune.ts";
import type { ScheduledPruneRequest } from "../../lib/domain/prune-request.ts";
import { AirClient } from "../../lib/adapters/air/client.ts";
import { DynamoDbRetentionBaseStore } from "../../lib/adapters/dynamodb/retention-base-store.ts";
import { heldCheckpointId } from "../../lib/domain/platform-checkpoint.ts";
import { scheduleInput, topology } from "../../lib/topology.ts";
import queued from "../events/sqs/prune-request.json" with { type: "json" };
import daily from "../events/scheduler/prune-daily.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import {
  FUNCTION_ENV_AIR_TOKEN,
  FUNCTION_ENV_NAMES,
  invoke,
  startFunctionEnv,
  withBody,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let prune: typeof entry;

beforeAll(async () => {
  // An NVIDIA Air simulation with two checkpoints of its own, for retention to prune on Air.
  env = await startFunctionEnv({
    air: {
      simulations: [
        {
          name: "air-lab",
          checkpoints: [
            { name: "monday", created: new Date("2026-11-23T09:00:00Z") },
            { name: "tuesday", created: new Date("2026-11-24T09:00:00Z") },
          ],
        },
      ],
    },
  });
  // Keep one checkpoint per simulation; no archive bucket, so none waits to be archived first.
  process.env.SIMSNAP_RETENTION = JSON.stringify({
    default: { keepLast: 1 },
    maxRemoveFraction: 1,
  });
  delete process.env.SIMSNAP_ARCHIVE_BUCKET;
  prune = await import("../../functions/prune.ts");
});
afterAll(() => env?.close());

/** `count` COMPLETE checkpoints of `simulation` with their files, oldest first. */
async function seed(simulation: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let day = 1; day <= count; day++) {
    const id = `${simulation}-${day}`;
    const key = `simsnap/snapshot/${simulation}-2611${String(day).padStart(2, "0")}-1000-00.zip`;
    await env.putObject(key, "snapshot");
    const at = `2026-11-${String(day).padStart(2, "0")}T10:00:00.000Z`;
    await env.catalog.create(
      checkpoint({
        id,
        simulation,
        createdAt: at,
        modifiedAt: at,
        completedAt: at,
        location: { bucket: FUNCTION_ENV_NAMES.bucket, key },
      }),
    );
    ids.push(id);
  }
  return ids;
}

describe("functions/prune handler (the prune-requests queue)", () => {
  it("prunes the simulation of a completed checkpoint, logging with the record's own keys", async () => {
    const [oldest, middle, newest] = await seed("traffic-sim", 3);

    const { result, lines, context } = await invoke(prune.handler, queued as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [] });
    expect((await env.catalog.get(oldest!))?.state).toBe("DELETED");
    expect((await env.catalog.get(middle!))?.state).toBe("DELETED");
    expect((await env.catalog.get(newest!))?.state).toBe("COMPLETE");
    expect(lines).toEqual([
      expect.objectContaining({
        message: "Prune run",
        simulation: "traffic-sim",
        removed: 2,
        messageId: queued.Records[0]!.messageId,
        function_request_id: context.awsRequestId,
      }),
    ]);
    // The approved plan became the simulation's base, which the next run's share guard reads.
    const bases = new DynamoDbRetentionBaseStore(env.aws.doc, FUNCTION_ENV_NAMES.table);
    expect(await bases.get("checkpoints", "traffic-sim")).toMatchObject({
      newest: "2026-11-03T10:00:00.000Z",
      policy: { keepLast: 1 },
    });
  });
});

describe("functions/prune on a platform that holds its checkpoints (NVIDIA Air)", () => {
  it("trashes a checkpoint: DELETED in the catalog, the platform's DELETE deferred to the purge", async () => {
    const server = env.air!;
    const air = new AirClient({ endpoint: server.baseUrl, token: () => FUNCTION_ENV_AIR_TOKEN });
    const simulation = server.simulations().find((s) => s.name === "air-lab")!;
    const held = await air.listCheckpoints({ simulation: simulation.id, ordering: "created" });
    const ids = [];
    for (const one of held) {
      const at = one.created.toISOString();
      const record = checkpoint({
        id: heldCheckpointId("air", one.id),
        simulation: "air-lab",
        provider: "air",
        platformId: one.id,
        name: one.name,
        trigger: "discovered",
        createdAt: at,
        modifiedAt: at,
        completedAt: at,
        location: undefined,
        size: undefined,
      });
      await env.catalog.create(record);
      ids.push(record.id);
    }
    const completed = JSON.parse(queued.Records[0]!.body) as {
      detail: { checkpoint: Record<string, unknown> };
    };
    completed.detail.checkpoint = { ...completed.detail.checkpoint, simulation: "air-lab" };

    const { result } = await invoke(prune.handler, withBody(queued as SQSEvent, completed));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(await env.catalog.get(ids[0]!)).toMatchObject({
      state: "DELETED",
      trashOnPlatform: true,
    });
    expect((await env.catalog.get(ids[1]!))?.state).toBe("COMPLETE");
    // With the default trash (7 days) Air keeps it until the purge, so an undelete can bring it back.
    expect((await air.getCheckpoint(held[0]!.id)).state).toBe("COMPLETE");
    expect((await air.getCheckpoint(held[1]!.id)).state).toBe("COMPLETE");
  });
});

describe("functions/prune dailyHandler (the prune-daily schedule)", () => {
  it("is what lib/topology.ts says the daily schedule invokes, with the input it sends", () => {
    const spec = topology.schedules.find((s) => s.name === "prune-daily")!;
    expect(spec).toMatchObject({ target: "prune", handler: "dailyHandler" });
    expect(daily).toEqual(scheduleInput(spec, daily.scheduledTime));
  });

  it("prunes every simulation in the catalog, logging with the request id", async () => {
    const [older, newer] = await seed("ocean-sim", 2);

    const { result, lines, context } = await invoke(
      prune.dailyHandler,
      daily as ScheduledPruneRequest,
    );

    expect(result).toEqual(
      expect.arrayContaining([
        { simulation: "ocean-sim", outcome: "pruned", removed: 1, failed: 0 },
      ]),
    );
    expect((await env.catalog.get(older!))?.state).toBe("DELETED");
    expect((await env.catalog.get(newer!))?.state).toBe("COMPLETE");
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "Prune run",
        simulation: "ocean-sim",
        function_request_id: context.awsRequestId,
      }),
    );
  });

  it("refuses an SQS batch, naming the fields it lacks, instead of guessing what it got", async () => {
    const { error } = await invoke(prune.dailyHandler, queued as never);

    expect(error).toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/^Invalid scheduled prune request: .*source/),
    });
  });
});
