/** The names of a topology record, typed as its keys (`Object.keys` widens them to string). */
export function names<K extends string>(record: Record<K, unknown>): K[] {
  return Object.keys(record) as K[];
}

/** Builds one construct per topology entry, keyed by the entry's name. */
export function mapNames<K extends string, V, R>(
  record: Record<K, V>,
  build: (name: K, value: V) => R,
): Record<K, R> {
  return Object.fromEntries(
    names(record).map((name) => [name, build(name, record[name])]),
  ) as Record<K, R>;
}

/** `snapshot-requests` → `SnapshotRequests`: stable construct ids from topology names. */
export function constructId(name: string): string {
  return name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
