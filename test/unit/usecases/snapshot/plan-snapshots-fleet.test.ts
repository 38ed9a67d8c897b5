import { describe, expect, it } from "vitest";
import type { SnapshotRequest, StopRequestedEvent } from "../../../../lib/domain/messages.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import {
  DEFAULT_TAG_MAX_AGE_MS,
  planSnapshots,
} from "../../../../lib/usecases/snapshot/plan-snapshots.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
import { ManualClock, MemoryQueue, MemoryTagCache } from "../../../support/memory.ts";

const tick = { schedule: "hourly", scheduledTime: "2026-11-23T10:00:00Z" };
const HOUR = 3_600_000;

/** A provider whose listing carries creation times, as SimSpace Weaver's does. */
class DatedProvider extends FakeProvider {
  readonly created = new Map<string, Date>();

  override async listSimulations() {
    return (await super.listSimulations()).map((s) => ({
      ...s,
      creationTime: this.created.get(s.name) ?? new Date("2026-01-01T00:00:00.000Z"),
    }));
  }
}

function fleet(count: number) {
  const names = Array.from({ length: count }, (_, i) => `sim-${String(i).padStart(5, "0")}`);
  const provider = new DatedProvider(Object.fromEntries(names.map((n) => [n, "STARTED" as const])));
  names.forEach((name, i) => provider.tags.set(name, { tier: i % 2 === 0 ? "gold" : "silver" }));
  const clock = new ManualClock("2026-11-23T10:00:00.000Z");
  const cache = new MemoryTagCache();
  const requests = new MemoryQueue<SnapshotRequest>();
  const deps = {
    providers: directoryOf([provider]),
    requests,
    stops: new MemoryQueue<StopRequestedEvent>(),
    tags: { cache, clock },
  };
  return { names, provider, clock, cache, requests, deps };
}

describe("planSnapshots over a fleet", () => {
  it("sends 10 requests a batch: 2,345 simulations cost 235 queue requests", async () => {
    const { names, requests, deps } = fleet(2_345);

    const result = await planSnapshots(tick, deps);

    expect(result.requested).toEqual(names);
    expect(requests.sent.map((s) => s.message.simulation)).toEqual(names);
    expect(requests.requests).toBe(235);
  });

  it("reads each simulation's tags once, then from the cache until they are old", async () => {
    const { names, provider, clock, cache, deps } = fleet(300);
    const gold = { ...tick, selector: { tags: { tier: "gold" } } };

    const first = await planSnapshots(gold, deps);
    expect(first.requested).toEqual(names.filter((_, i) => i % 2 === 0));
    expect(first.tags).toEqual({ read: 300, cached: 0, unread: 0, budget: 4000 });
    expect(provider.tagCalls).toHaveLength(300);
    expect(cache.getRequests).toBe(3);
    expect(cache.putRequests).toBe(12);

    clock.advance(HOUR);
    const second = await planSnapshots(gold, deps);
    expect(second.requested).toEqual(first.requested);
    expect(second.tags).toMatchObject({
      read: 0,
      cached: 300,
      oldestReadAt: "2026-11-23T10:00:00.000Z",
    });
    expect(provider.tagCalls).toHaveLength(300);

    // Past the maximum age every entry has been read again, spread over the last quarter of it.
    clock.advance(DEFAULT_TAG_MAX_AGE_MS * 0.8 - HOUR);
    const spread = await planSnapshots(gold, deps);
    expect(spread.tags?.read).toBeGreaterThan(0);
    expect(spread.tags?.read).toBeLessThan(300);
    clock.advance(DEFAULT_TAG_MAX_AGE_MS * 0.2);
    await planSnapshots(gold, deps);
    expect(provider.tagCalls).toHaveLength(600);
  });

  it("matches a changed selector against the cached tags at once, with no provider call", async () => {
    const { names, provider, clock, deps } = fleet(40);
    await planSnapshots({ ...tick, selector: { tags: { tier: "gold" } } }, deps);
    const calls = provider.tagCalls.length;

    clock.advance(HOUR);
    const silver = await planSnapshots({ ...tick, selector: { tags: { tier: "silver" } } }, deps);

    expect(silver.requested).toEqual(names.filter((_, i) => i % 2 === 1));
    expect(provider.tagCalls).toHaveLength(calls);
  });

  it("reads a simulation created again under the same name afresh", async () => {
    const { provider, clock, deps } = fleet(3);
    const gold = { ...tick, selector: { tags: { tier: "gold" } } };
    expect((await planSnapshots(gold, deps)).requested).toEqual(["sim-00000", "sim-00002"]);

    // sim-00001 is deleted and started again, now tagged gold: a new incarnation, a new read.
    provider.created.set("sim-00001", new Date("2026-11-23T10:30:00.000Z"));
    provider.tags.set("sim-00001", { tier: "gold" });
    clock.advance(HOUR);
    const next = await planSnapshots(gold, deps);

    expect(next.requested).toEqual(["sim-00000", "sim-00001", "sim-00002"]);
    expect(next.tags).toMatchObject({ read: 1, cached: 2 });
  });

  it("spends at most its tag-read budget a tick: new simulations first, the rest on a later tick", async () => {
    const { names, provider, clock, deps } = fleet(250);
    const all = { ...tick, selector: { tags: { fleet: "x" } } };
    names.forEach((name) => provider.tags.set(name, { fleet: "x" }));
    const budgeted = { ...deps, tags: { ...deps.tags, maxReadsPerTick: 100 } };

    const first = await planSnapshots(all, budgeted);
    expect(first.requested).toEqual(names.slice(0, 100));
    expect(first.tags).toMatchObject({ read: 100, unread: 150 });
    expect(first.skipped).toHaveLength(150);
    expect(first.skipped[0]).toEqual({
      simulation: "sim-00100",
      provider: "fake",
      reason:
        "its tags are not read yet: this tick's 100 tag reads went to other simulations; a later tick reads them",
    });

    clock.advance(HOUR);
    expect((await planSnapshots(all, budgeted)).requested).toHaveLength(200);
    clock.advance(HOUR);
    expect((await planSnapshots(all, budgeted)).requested).toEqual(names);

    // Once old, entries past the budget are used as they are, never dropped.
    clock.advance(DEFAULT_TAG_MAX_AGE_MS);
    const late = await planSnapshots(all, budgeted);
    expect(late.requested).toEqual(names);
    expect(late.tags).toMatchObject({ read: 100, cached: 150, unread: 0 });
    expect(provider.tagCalls).toHaveLength(350);
  });
});
