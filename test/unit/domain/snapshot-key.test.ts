import { describe, expect, it } from "vitest";
import { SimulationNameSchema } from "../../../lib/domain/names.ts";
import {
  ownedPrefixes,
  ownershipRefusal,
  parseOwnedSnapshot,
  parseSnapshotKey,
  snapshotFolder,
  snapshotKey,
} from "../../../lib/domain/snapshot-key.ts";
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
    expect(parseSnapshotKey("a/b/snapshot/my-sim-1-261123-2359-59.zip", ["a/b/"])).toEqual({
      prefix: "a/b",
      simulation: "my-sim-1",
      time: new Date("2026-11-23T23:59:59Z"),
    });
    expect(parseSnapshotKey("snapshot/s-261123-0000-00.zip", [""])).toMatchObject({
      prefix: "",
      simulation: "s",
    });
  });

  it("round-trips", () => {
    const time = new Date("2026-02-28T17:45:09Z");
    expect(parseSnapshotKey(snapshotKey("p", "sim_1", time), ["p"])).toEqual({
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
    expect(parseSnapshotKey(key, ["p"])).toBeUndefined();
  });

  it.each([
    "otherteam/snapshot/x-261123-1000-00.zip",
    "simsnap-old/snapshot/x-261123-1000-00.zip",
    "x/simsnap/snapshot/x-261123-1000-00.zip",
    "simsnap/sub/snapshot/x-261123-1000-00.zip",
    "simsnap/snapshot/sub/x-261123-1000-00.zip",
    "simsnap/snapshot/../x-261123-1000-00.zip",
    "simsnap/snapshot/../../otherteam/snapshot/x-261123-1000-00.zip",
    "snapshot/x-261123-1000-00.zip",
  ])("refuses %s, outside the owned prefix simsnap", (key) => {
    expect(parseSnapshotKey(key, ["simsnap"])).toBeUndefined();
  });

  it("parses files under an adopted prefix once it is owned", () => {
    const key = "otherteam/snapshot/x-261123-1000-00.zip";
    expect(parseSnapshotKey(key, ownedPrefixes("simsnap", ["otherteam"]))).toMatchObject({
      prefix: "otherteam",
      simulation: "x",
    });
  });

  it("names the simulations . and .. safely, and still reads them back", () => {
    const time = new Date("2026-11-23T10:00:00Z");
    for (const simulation of [".", "..", "a..b"]) {
      const key = snapshotKey("simsnap", simulation, time);
      expect(key).toBe(`simsnap/snapshot/${simulation}-261123-1000-00.zip`);
      expect(parseSnapshotKey(key, ["simsnap"])).toMatchObject({ simulation });
    }
  });
});

describe("owned prefixes", () => {
  it("are the destination prefix and the adopted ones, normalized, without repeats", () => {
    expect(ownedPrefixes("simsnap")).toEqual(["simsnap"]);
    expect(ownedPrefixes("/simsnap/", ["otherteam", "simsnap", "a/b/"])).toEqual([
      "simsnap",
      "otherteam",
      "a/b",
    ]);
  });

  it("belong to the snapshot bucket only", () => {
    const owned = { bucket: "snapshots", prefixes: ["simsnap"] };
    const key = "simsnap/snapshot/x-261123-1000-00.zip";
    expect(parseOwnedSnapshot({ bucket: "snapshots", key }, owned)).toBeDefined();
    expect(parseOwnedSnapshot({ bucket: "elsewhere", key }, owned)).toBeUndefined();
    expect(ownershipRefusal({ bucket: "snapshots", key }, owned)).toBeUndefined();
    for (const inside of ["simsnap/snapshot/other-name.zip", "simsnap/snapshot/a/b.zip"]) {
      expect(ownershipRefusal({ bucket: "snapshots", key: inside }, owned), inside).toBeUndefined();
    }
    for (const escaping of [
      "simsnap/snapshot/../../otherteam/snapshot/x.zip",
      "simsnap/snapshot/./x.zip",
      "simsnap/snapshot//x.zip",
      "simsnap/snapshot/",
      "simsnap/reports/prune/x.json",
    ]) {
      expect(ownershipRefusal({ bucket: "snapshots", key: escaping }, owned), escaping).toMatch(
        /outside the snapshot folders/,
      );
    }
    expect(ownershipRefusal({ bucket: "elsewhere", key }, owned)).toMatch(/outside/);
    expect(
      ownershipRefusal({ bucket: "snapshots", key: "otherteam/snapshot/x.zip" }, owned),
    ).toMatch(
      /s3:\/\/snapshots\/otherteam\/snapshot\/x\.zip is outside the snapshot folders simsnap owns \(s3:\/\/snapshots\/simsnap\/snapshot\/\); adopt its prefix with destination\.adoptPrefixes/,
    );
  });
});

describe("simulation names in snapshot keys", () => {
  it.each(["a", "Sim_1.v-2", "x".repeat(64)])("reads back SimSpace Weaver's name %s", (name) => {
    const key = snapshotKey("p", name, new Date("2026-12-01T12:00:00Z"));
    expect(parseSnapshotKey(key, ["p"])?.simulation).toBe(name);
  });

  it.each(["My First Simulation", "東京 Überwachung 🌊", "x".repeat(65), "a#b"])(
    "takes no file named for %j as a snapshot: SimSpace Weaver never writes one",
    (name) => {
      // simsnap's rule allows the name (an NVIDIA Air simulation may have it)...
      expect(SimulationNameSchema.safeParse(name).success).toBe(true);
      // ...and its key is a valid one, but not a SimSpace Weaver snapshot file.
      const key = `p/snapshot/${name}-261201-1200-00.zip`;
      expect(parseSnapshotKey(key, ["p"])).toBeUndefined();
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
