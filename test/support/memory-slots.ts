import type { Slot, SlotStore } from "../../lib/ports/slots.ts";

/** A `SlotStore` in memory with the DynamoDB adapter's compare-and-swap rule. */
export class MemorySlotStore implements SlotStore {
  readonly slots = new Map<string, Required<Pick<Slot, "holder" | "claimedAt">>>();
  /** Claims refused because another claim came first. */
  lostClaims = 0;

  async read(pool: string, count: number): Promise<Slot[]> {
    return Array.from({ length: count }, (_, index) => ({
      index,
      ...this.slots.get(`${pool}#${index}`),
    }));
  }

  async claim(
    pool: string,
    index: number,
    expected: string | undefined,
    holder: string,
    at: string,
  ): Promise<boolean> {
    const key = `${pool}#${index}`;
    if (this.slots.get(key)?.holder !== expected) {
      this.lostClaims += 1;
      return false;
    }
    this.slots.set(key, { holder, claimedAt: at });
    return true;
  }
}
