import { describe, expect, it } from "vitest";
import { LocalEventBus, type BusEvent } from "../../../lib/local/event-bus.ts";

const S3_CREATED = { source: ["aws.s3"], "detail-type": ["Object Created"] };

/** A bus that drops a share of S3 events, with what its rule saw and what it dropped. */
function chaosBus(rate: number, seed: number) {
  const delivered: string[] = [];
  const dropped: string[] = [];
  const bus = new LocalEventBus({
    drop: {
      rate,
      seed,
      pattern: S3_CREATED,
      onDrop: (event) => dropped.push(keyOf(event)),
    },
  });
  bus.addRule("all", "default", { source: [{ prefix: "" }] }, (event) => {
    delivered.push(keyOf(event));
  });
  return { bus, delivered, dropped };
}

const keyOf = (event: BusEvent) => String((event.detail as { key: string }).key);

async function putAll(bus: LocalEventBus, s3Events: number, otherEvents: number): Promise<void> {
  for (let i = 0; i < s3Events; i++) {
    bus.put("default", {
      source: "aws.s3",
      "detail-type": "Object Created",
      resources: [],
      detail: { key: `s3-${i}` },
    });
  }
  for (let i = 0; i < otherEvents; i++) {
    bus.put("default", {
      source: "simsnap",
      "detail-type": "Checkpoint Completed",
      resources: [],
      detail: { key: `other-${i}` },
    });
  }
  await bus.drain();
}

describe("LocalEventBus in chaos mode", () => {
  it("drops the share of matching events it is told to, and no other event", async () => {
    const { bus, delivered, dropped } = chaosBus(0.5, 11);

    await putAll(bus, 400, 100);

    expect(dropped.length / 400).toBeGreaterThan(0.42);
    expect(dropped.length / 400).toBeLessThan(0.58);
    expect(dropped.every((key) => key.startsWith("s3-"))).toBe(true);
    expect(delivered.filter((key) => key.startsWith("other-"))).toHaveLength(100);
    expect(new Set([...delivered, ...dropped]).size).toBe(500);
  });

  it("drops the same events for the same seed, and others for another seed", async () => {
    const run = async (seed: number) => {
      const { bus, dropped } = chaosBus(0.3, seed);
      await putAll(bus, 100, 0);
      return dropped;
    };
    const first = await run(2026);

    expect(await run(2026)).toEqual(first);
    expect(await run(2027)).not.toEqual(first);
  });

  it("delivers everything with a rate of 0 or no drop at all", async () => {
    const { bus, delivered, dropped } = chaosBus(0, 1);
    await putAll(bus, 50, 0);
    expect(dropped).toEqual([]);
    expect(delivered).toHaveLength(50);
  });
});
