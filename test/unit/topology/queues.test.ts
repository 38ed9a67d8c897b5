import { describe, expect, it } from "vitest";
import { IN_FLIGHT_RETRY_SECONDS } from "../../../lib/domain/snapshot-binding.ts";
import { topology } from "../../../lib/topology.ts";
import { CLAIM_SECONDS } from "../../../lib/usecases/snapshot/take-snapshot.ts";

describe("the snapshot-files queue", () => {
  it("redelivers a file event for longer than a CreateSnapshot claim can hold it back", () => {
    // Each delivery that waits for an in-flight call counts as a receive; a few more cover the
    // transient errors a delivery may meet on top.
    const { maxReceiveCount } = topology.queues["snapshot-files"];
    const waits = maxReceiveCount - 3;
    expect(waits * IN_FLIGHT_RETRY_SECONDS).toBeGreaterThan(CLAIM_SECONDS);
  });
});
