import { describe, expect, it } from "vitest";
import {
  AIR_CAPABILITIES,
  cloneName,
  toSimulationStatus,
} from "../../../../lib/adapters/air/provider.ts";
import { SimulationNameSchema } from "../../../../lib/domain/names.ts";

describe("toSimulationStatus", () => {
  it.each([
    ["REQUESTING", "STARTING"],
    ["PROVISIONING", "STARTING"],
    ["PREPARE_BOOT", "STARTING"],
    ["BOOTING", "STARTING"],
    ["ACTIVE", "STARTED"],
    ["PREPARE_SHUTDOWN", "STOPPING"],
    ["SHUTTING_DOWN", "STOPPING"],
    ["SAVING", "STOPPING"],
    ["PREPARE_PURGE", "STOPPING"],
    ["PURGING", "STOPPING"],
    ["INACTIVE", "STOPPED"],
    ["INVALID", "FAILED"],
    ["DELETING", "DELETING"],
  ])("maps Air's %s to %s", (state, status) => {
    expect(toSimulationStatus(state)).toBe(status);
  });

  it.each(["CLONING", "CREATING", "IMPORTING", "PENDING", "REBUILDING", "ADMIN_SUSPENDED", "DEMO"])(
    "reads %s, which no use case acts on, as UNKNOWN",
    (state) => {
      expect(toSimulationStatus(state)).toBe("UNKNOWN");
    },
  );

  it("reads a state Air may add later, or an object key, as UNKNOWN", () => {
    expect(toSimulationStatus("HIBERNATING")).toBe("UNKNOWN");
    expect(toSimulationStatus("constructor")).toBe("UNKNOWN");
  });
});

describe("AIR_CAPABILITIES", () => {
  it("declares what the Air API offers: checkpoints on stop, in the platform, no bytes, no tags, restore tests that can only see a start", () => {
    expect(AIR_CAPABILITIES).toEqual({
      snapshotWhileRunning: false,
      checkpointOnStop: true,
      checkpointStorage: "platform",
      archivable: false,
      restoreInto: { newSimulation: true, sameSimulation: true, prefix: false },
      tags: false,
      restoreTest: { evidence: "started" },
    });
  });
});

describe("cloneName", () => {
  const checkpoint = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

  it("joins the simulation's name and the checkpoint id's first characters", () => {
    expect(cloneName("lab", checkpoint)).toBe("lab-3fa85f64");
    // Air names are free text, and so are simsnap's: a clone keeps its source's spaces.
    expect(cloneName("My First Simulation", checkpoint)).toBe("My First Simulation-3fa85f64");
    expect(cloneName("東京 🌊", checkpoint)).toBe("東京 🌊-3fa85f64");
  });

  it("stays within simsnap's name rule for a long name or one with spaces", () => {
    for (const name of ["x".repeat(128), "🌊".repeat(128), "My First Simulation", "a/b:c\n"]) {
      const derived = cloneName(name, checkpoint);
      expect(SimulationNameSchema.safeParse(derived).success, derived).toBe(true);
      expect(derived.endsWith("-3fa85f64")).toBe(true);
    }
  });
});
