import { describe, expect, it } from "vitest";
import { checkpointFreshness } from "../../../../lib/usecases/snapshot/checkpoint-freshness.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { ManualClock, MemoryCheckpointStore } from "../../../support/memory.ts";

const HOUR = 3600;
const hoursAgo = (now: Date, hours: number): string =>
  new Date(now.getTime() - hours * HOUR * 1000).toISOString();

async function catalogWith(now: Date, records: Parameters<typeof checkpoint>[0][]) {
  const checkpoints = new MemoryCheckpointStore();
  for (const record of records) await checkpoints.create(checkpoint(record));
  return { checkpoints, clock: new ManualClock(now) };
}

describe("checkpointFreshness", () => {
  const now = new Date("2026-03-10T12:00:00.000Z");

  it("measures from the newest completed checkpoint, skipping newer failed and pending ones", async () => {
    const deps = await catalogWith(now, [
      { simulation: "ocean", createdAt: hoursAgo(now, 5) },
      { simulation: "ocean", createdAt: hoursAgo(now, 3) },
      { simulation: "ocean", createdAt: hoursAgo(now, 2), state: "FAILED", location: undefined },
      { simulation: "ocean", createdAt: hoursAgo(now, 1), state: "PENDING", location: undefined },
    ]);
    expect(await checkpointFreshness(["ocean"], deps)).toEqual([
      { simulation: "ocean", ageSeconds: 3 * HOUR, newestCompletedAt: hoursAgo(now, 3) },
    ]);
  });

  it("counts a checkpoint retention deleted as completed", async () => {
    const deps = await catalogWith(now, [
      { simulation: "ocean", createdAt: hoursAgo(now, 4), state: "DELETED" },
    ]);
    const [result] = await checkpointFreshness(["ocean"], deps);
    expect(result?.ageSeconds).toBe(4 * HOUR);
  });

  it("pages past a long run of failures to the completed checkpoint before them", async () => {
    const failures = Array.from({ length: 120 }, (_, i) => ({
      simulation: "city",
      createdAt: hoursAgo(now, i + 1),
      state: "FAILED" as const,
      location: undefined,
    }));
    const deps = await catalogWith(now, [
      ...failures,
      { simulation: "city", createdAt: hoursAgo(now, 200) },
    ]);
    const [result] = await checkpointFreshness(["city"], deps);
    expect(result).toMatchObject({ ageSeconds: 200 * HOUR, newestCompletedAt: hoursAgo(now, 200) });
  });

  it("ages a simulation that never completed one from its first attempt, and a new one at 0", async () => {
    const deps = await catalogWith(now, [
      { simulation: "city", createdAt: hoursAgo(now, 9), state: "FAILED", location: undefined },
      { simulation: "city", createdAt: hoursAgo(now, 7), state: "FAILED", location: undefined },
    ]);
    expect(await checkpointFreshness(["city", "brand-new"], deps)).toEqual([
      { simulation: "city", ageSeconds: 9 * HOUR },
      { simulation: "brand-new", ageSeconds: 0 },
    ]);
  });

  it("reads 1,000 simulations' ages from the registry, 100 a request, listing none", async () => {
    const names = Array.from({ length: 1_000 }, (_, i) => `sim-${i}`);
    const deps = await catalogWith(
      now,
      names.map((simulation, i) => ({ simulation, createdAt: hoursAgo(now, 1 + (i % 5)) })),
    );

    const results = await checkpointFreshness(names, deps);

    expect(results[7]).toEqual({
      simulation: "sim-7",
      ageSeconds: 3 * HOUR,
      newestCompletedAt: hoursAgo(now, 3),
    });
    expect(deps.checkpoints.recordRequests).toBe(10);
    expect(deps.checkpoints.listRequests).toBe(0);
  });

  it("answers a simulation cataloged before the registry kept ages from its listing, once", async () => {
    const failures = Array.from({ length: 120 }, (_, i) => ({
      simulation: "city",
      createdAt: hoursAgo(now, i + 1),
      state: "FAILED" as const,
      location: undefined,
    }));
    const deps = await catalogWith(now, [
      { simulation: "city", createdAt: hoursAgo(now, 200) },
      ...failures,
    ]);
    deps.checkpoints.forgetRecordTimes("city");

    const [first] = await checkpointFreshness(["city"], deps);
    const listed = deps.checkpoints.listRequests;
    const [second] = await checkpointFreshness(["city"], deps);

    expect(first).toEqual({
      simulation: "city",
      ageSeconds: 200 * HOUR,
      newestCompletedAt: hoursAgo(now, 200),
    });
    expect(second).toEqual(first);
    expect(listed).toBe(3);
    expect(deps.checkpoints.listRequests).toBe(listed);
  });
});
