/**
 * Runs `work` on `items` with at most `limit` in flight. After the first failure no new item is
 * started and the failure is rethrown once every running item has ended, so nothing keeps copying
 * in the background of a call that has already failed (prune, object-set copies, test seeding).
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (failure === undefined && next < items.length) {
        const item = items[next++] as T;
        try {
          await work(item);
        } catch (error) {
          failure ??= { error };
        }
      }
    }),
  );
  if (failure !== undefined) throw failure.error;
}
