import { describe, expect, it } from "vitest";
import { SimulationNameSchema } from "../../../lib/domain/names.ts";
import { parseSnapshotKey, snapshotFolder, snapshotKey } from "../../../lib/domain/snapshot-key.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { deterministicId } from "../../../lib/domain/ids.ts";
import { backoffSeconds } from "../../../lib/domain/backoff.ts";

describe("snapshot keys", () => {
  it("names a snapshot prefix/snapshot/<simulation>-YYMMdd-HHmm-ss.zip in UTC", () => {
    const time = new Date("2027-01-05T03:04:05.678+02:00");
    expect(snapshotKey("simsnap", "traffic-sim.v2", time)).toBe(
      "simsnap/snapshot/traffic-sim.v2-270105-0104-05.zip",
    );
    expect(snapshotKey("/a/b/", "s", time)).toBe("a/b/snapshot/s-270105-0104-05.zip");
    expect(snapshotKey("", "s", time)).toBe("snapshot/s-270105-0104-05.zip");
    expect(snapshotFolder("x/")).toBe("x/snapshot/");
  });

  it("parses a key back, including names with dashes and an empty prefix", () => {
    expect(parseSnapshotKey("a/b/snapshot/my-sim-1-261123-2359-59.zip")).toEqual({
      prefix: "a/b",
      simulation: "my-sim-1",
      time: new Date("2026-11-23T23:59:59Z"),
    });
    expect(parseSnapshotKey("snapshot/s-261123-0000-00.zip")).toMatchObject({
      prefix: "",
      simulation: "s",
    });
  });

  it("round-trips", () => {
    const time = new Date("2026-02-28T17:45:09Z");
    expect(parseSnapshotKey(snapshotKey("p", "sim_1", time))).toEqual({
      prefix: "p",
      simulation: "sim_1",
      time,
    });
  });

  it.each([
    "p/snapshot/sim-261123-1000-00.json",
    "p/snapshots/sim-261123-1000-00.zip",
    "p/snapshot/sim-261323-1000-00.zip",
    "p/snapshot/sim-260230-1000-00.zip",
    "p/snapshot/sim-261123-2500-00.zip",
    "p/snapshot/bad name-261123-1000-00.zip",
    "p/snapshot/-261123-1000-00.zip",
    "p/snapshot/sim-261123-100-00.zip",
  ])("rejects %s", (key) => {
    expect(parseSnapshotKey(key)).toBeUndefined();
  });
});

describe("simulation names", () => {
  it.each(["a", "Sim_1.v-2", "x".repeat(64)])("accepts %s", (name) => {
    expect(SimulationNameSchema.safeParse(name).success).toBe(true);
  });

  it.each(["", "x".repeat(65), "has space", "slash/name", "ünï"])(
    "rejects %j with a message naming the rule",
    (name) => {
      expect(() => parseInput(SimulationNameSchema, name, "simulation name")).toThrow(
        /Invalid simulation name: \(root\): must/,
      );
    },
  );
});

describe("deterministic ids and backoff", () => {
  it("derives the same RFC 9562 v8 UUID from the same key, another from another", () => {
    const a = deterministicId("job", "r1");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId("job", "r1")).toBe(a);
    expect(deterministicId("job", "r2")).not.toBe(a);
    expect(deterministicId("jo", "br1")).not.toBe(a);
  });

  it("doubles and caps", () => {
    expect(
      [0, 1, 2, 3, 4, 5].map((n) => backoffSeconds(n, { baseSeconds: 5, maxSeconds: 60 })),
    ).toEqual([5, 10, 20, 40, 60, 60]);
  });
});
