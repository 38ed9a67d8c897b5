import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { SimulationNameSchema } from "../../../lib/domain/names.ts";
import {
  defaultRestoreName,
  MaximumDurationSchema,
  restoredSnapshotKey,
  restoreJobId,
  RestoreRequestSchema,
  RestoreTargetNameSchema,
} from "../../../lib/domain/restore.ts";
import { parseSnapshotKey } from "../../../lib/domain/snapshot-key.ts";
import { parseInput } from "../../../lib/domain/validation.ts";

describe("MaximumDurationSchema", () => {
  it("accepts 1 to 5 digits and a unit, up to 14 days", () => {
    for (const ok of ["1m", "90M", "12h", "336H", "14d", "14D", "20160m", "00005h"]) {
      expect(MaximumDurationSchema.safeParse(ok).success, ok).toBe(true);
    }
  });

  it("refuses other forms and anything above 14 days", () => {
    for (const bad of ["", "d", "1w", "1.5h", "123456m", "15d", "337h", "20161m", " 1d"]) {
      expect(MaximumDurationSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe("RestoreRequestSchema", () => {
  it("names every field that breaks a rule", () => {
    let error: unknown;
    try {
      parseInput(
        RestoreRequestSchema,
        {
          checkpointId: "",
          simulationName: "team/lab",
          maximumDuration: "2w",
          clientToken: "a b",
        },
        "restore request",
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).details.map((d) => d.path).sort();
    expect(paths).toEqual(["checkpointId", "clientToken", "maximumDuration", "simulationName"]);
    expect((error as Error).message).toMatch(/maximumDuration: must be 1 to 5 digits/);
  });

  it.each([".", ".."])(
    "refuses to restore into a simulation named %j, naming the field",
    (simulationName) => {
      // SimSpace Weaver's own rule allows the name: the refusal is simsnap's.
      expect(SimulationNameSchema.safeParse(simulationName).success).toBe(true);
      expect(() =>
        parseInput(
          RestoreRequestSchema,
          { checkpointId: "c-1", simulationName, clientToken: "t" },
          "restore request",
        ),
      ).toThrow(/simulationName: must not be "\." or "\.\."/);
    },
  );

  it("accepts names that merely contain dots", () => {
    for (const simulationName of ["a..b", "...", ".hidden", "v1.2"]) {
      const request = { checkpointId: "c-1", simulationName, clientToken: "t" };
      expect(RestoreRequestSchema.safeParse(request).success, simulationName).toBe(true);
    }
  });
});

describe("defaultRestoreName", () => {
  const checkpoint = { simulation: "ocean-currents", createdAt: "2026-11-23T10:00:10Z" };

  it("derives a valid name from the simulation and the checkpoint's time", () => {
    const name = defaultRestoreName(checkpoint, "token-1");
    expect(name).toMatch(/^ocean-currents-r261123-100010-[0-9a-f]{4}$/);
    expect(SimulationNameSchema.safeParse(name).success).toBe(true);
    expect(defaultRestoreName(checkpoint, "token-1")).toBe(name);
    expect(defaultRestoreName(checkpoint, "token-2")).not.toBe(name);
  });

  it("keeps an NVIDIA Air name's spaces and unicode, shortened by whole characters", () => {
    const name = defaultRestoreName({ ...checkpoint, simulation: "My First Simulation" }, "t");
    expect(name).toMatch(/^My First Simulation-r261123-100010-[0-9a-f]{4}$/);
    const long = defaultRestoreName({ ...checkpoint, simulation: "東京🌊".repeat(40) }, "t");
    expect([...long]).toHaveLength(64);
    for (const derived of [name, long]) {
      expect(RestoreTargetNameSchema.safeParse(derived).success, derived).toBe(true);
    }
  });

  it("shortens long simulation names to stay within 64 characters", () => {
    const name = defaultRestoreName({ ...checkpoint, simulation: "x".repeat(64) }, "t");
    expect(name).toHaveLength(64);
    expect(SimulationNameSchema.safeParse(name).success).toBe(true);
  });
});

describe("restore ids and keys", () => {
  it("gives a checkpoint and token one job id", () => {
    expect(restoreJobId("c", "t")).toBe(restoreJobId("c", "t"));
    expect(restoreJobId("c", "t")).not.toBe(restoreJobId("c", "u"));
  });

  it("copies archives back outside snapshot/, where they are not taken for new snapshots", () => {
    const key = restoredSnapshotKey("/simsnap/", "c-1", "sim-261123-1000-10.zip");
    expect(key).toBe("simsnap/restore/c-1/sim-261123-1000-10.zip");
    expect(parseSnapshotKey(key, ["simsnap"])).toBeUndefined();
    expect(restoredSnapshotKey("", "c-1", "f.zip")).toBe("restore/c-1/f.zip");
  });

  it("keeps a restored file inside restore/ whatever the file and id are called", () => {
    expect(restoredSnapshotKey("simsnap", "..", "..")).toBe("simsnap/restore/!dotdot/!dotdot");
    expect(restoredSnapshotKey("simsnap", ".", "a..b")).toBe("simsnap/restore/!dot/a..b");
  });
});
