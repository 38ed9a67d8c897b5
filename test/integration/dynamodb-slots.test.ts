import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { DynamoDbSlotStore } from "../../lib/adapters/dynamodb/slot-store.ts";
import { VerificationTickSchema, type VerificationStep } from "../../lib/domain/verification.ts";
import {
  planVerifications,
  VERIFICATION_SLOTS,
} from "../../lib/usecases/verification/plan-verifications.ts";
import { checkpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock, MemoryQueue } from "../support/memory.ts";
import { ThrowawayPlatform } from "../support/verification-world.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws({ catalogTables: ["slots", "guarded"] });
});

afterAll(async () => {
  await aws?.close();
});

describe("cost-guard slots on dynalite", () => {
  it("reads unclaimed slots as free and claims each by compare-and-swap", async () => {
    const slots = new DynamoDbSlotStore(aws.doc, "slots");
    expect(await slots.read("pool", 2)).toEqual([{ index: 0 }, { index: 1 }]);
    const at = "2026-12-01T10:00:00.000Z";
    expect(await slots.claim("pool", 0, undefined, "job-a", at)).toBe(true);
    // A second claimer that read the slot free loses; one that read the holder right wins.
    expect(await slots.claim("pool", 0, undefined, "job-b", at)).toBe(false);
    expect(await slots.claim("pool", 0, "job-x", "job-b", at)).toBe(false);
    expect(await slots.claim("pool", 0, "job-a", "job-c", at)).toBe(true);
    expect(await slots.read("pool", 2)).toEqual([
      { index: 0, holder: "job-c", claimedAt: at },
      { index: 1 },
    ]);
    expect(await slots.read("other-pool", 1)).toEqual([{ index: 0 }]);
  });

  it("holds the cost guard when three runs plan at once against the catalog table", async () => {
    const checkpoints = new DynamoDbCheckpointStore(aws.doc, "guarded");
    const jobs = new DynamoDbJobStore(aws.doc, "guarded");
    for (let i = 0; i < 5; i++) await checkpoints.create(checkpoint({ simulation: `sim-${i}` }));
    const deps = {
      checkpoints,
      jobs,
      providers: directoryOf([new ThrowawayPlatform()]),
      steps: new MemoryQueue<VerificationStep>(),
      clock: new ManualClock(new Date("2026-12-01T10:00:30.000Z")),
      slots: new DynamoDbSlotStore(aws.doc, "guarded"),
    };
    const tick = (scheduledTime: string) =>
      VerificationTickSchema.parse({
        schedule: "verify-checkpoints",
        scheduledTime,
        maxConcurrent: 2,
        maximumDuration: "30m",
      });
    const runs = await Promise.all([
      planVerifications(tick("2026-12-01T10:00:00.000Z"), deps),
      planVerifications(tick("2026-12-01T10:00:20.000Z"), deps),
      planVerifications(tick("2026-12-01T10:00:40.000Z"), deps),
    ]);
    const started = runs.flatMap((r) => r.planned).filter((p) => p.outcome === "started");
    expect(started).toHaveLength(2);
    const open = (await jobs.listAllOpen({ limit: 100 })).items.filter((j) => j.kind === "verify");
    expect(open.map((j) => j.id).sort()).toEqual(started.map((p) => p.jobId).sort());
    const holders = (await deps.slots.read(VERIFICATION_SLOTS, 2)).map((s) => s.holder);
    expect(holders.sort()).toEqual(started.map((p) => p.jobId).sort());
  });
});
