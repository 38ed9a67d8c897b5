/** One numbered slot of a pool, and who holds it now. */
export interface Slot {
  index: number;
  /** The holder's id (a verification job's); absent for a slot never claimed. */
  holder?: string;
  /** When the holder claimed it (ISO 8601). */
  claimedAt?: string;
}

/**
 * Numbered slots of a pool in the catalog, each taken by compare-and-swap. A count of open jobs
 * read by two planners at once lets both admit up to the limit; a slot claimed conditionally
 * cannot go to two of them, so a pool of N slots bounds what N may start, however many planners
 * run. A slot is never released: a claim replaces a holder that is done (the caller decides what
 * "done" is), so a crash cannot leak one for good.
 */
export interface SlotStore {
  /** Slots `0..count-1` of `pool`, in index order, read strongly consistent. */
  read(pool: string, count: number): Promise<Slot[]>;
  /**
   * Gives slot `index` to `holder` if it is still held by `expected` (undefined: never claimed);
   * false, changing nothing, when someone else claimed it since it was read.
   */
  claim(
    pool: string,
    index: number,
    expected: string | undefined,
    holder: string,
    at: string,
  ): Promise<boolean>;
}
