import { describe, expect, it } from "vitest";
import { airRequestLine } from "../../../lib/local/console-lines.ts";

describe("airRequestLine", () => {
  it("names a restore test's clone being deleted apart from a checkpoint delete", () => {
    const sim = "6f1c2a9e-0000-4000-8000-000000000001";
    expect(
      airRequestLine({ method: "DELETE", path: `/api/v3/simulations/${sim}/`, status: 204 }),
    ).toMatch(/⇄ NVIDIA Air DELETE delete simulation +→ 204 \(simulations\/6f1c2a9e/);
    expect(
      airRequestLine({
        method: "DELETE",
        path: `/api/v3/simulations/runs/checkpoints/${sim}/`,
        status: 204,
      }),
    ).toContain("delete checkpoint 6f1c2a9e");
    expect(
      airRequestLine({ method: "GET", path: `/api/v3/simulations/${sim}/`, status: 200 }),
    ).toBe(undefined);
  });
});
