/** One entry of a lockfile's `packages` map (lockfileVersion 3), as far as this file reads it. */
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** A package-lock.json, as far as this file reads it. */
export interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** A package to install into the throwaway project, with the manifest it has there. */
export interface ConsumerDependency {
  name: string;
  /** What the consumer's package.json says, e.g. `file:../simsnap-client-0.1.0.tgz`. */
  spec: string;
  /** The lock entry of the package itself (a packed tarball's version, integrity, dependencies). */
  entry: LockEntry;
  /** Where its own dependencies are found in the repository's lockfile (its install location). */
  resolvesFrom: string;
}

/**
 * Flags that describe the repository's tree (what only its dev dependencies need), not the
 * consumer's; `optional` stays, since a package only optionally needed there is so here too.
 */
const REPOSITORY_FLAGS = ["dev", "devOptional", "peer", "extraneous"];

/** The lock location a package named `name` is found at from `from`, walking up as Node does. */
function locate(lock: Lockfile, from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (base === "") return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

/**
 * The lockfile of a throwaway project that installs `dependencies` with exactly the versions the
 * repository's own lockfile holds, so `npm ci --prefer-offline` there takes every tarball from
 * the cache the repository's `npm ci` filled: no registry lookup picks a newer release, and the
 * packed client is proven against the versions the repository tests. Entries are copied with
 * their paths; a dependency found at `<resolvesFrom>/node_modules/x` lands under the
 * dependency's own folder, since that is where Node looks for it in the consumer.
 */
export function consumerLockfile(
  repository: Lockfile,
  consumerName: string,
  dependencies: readonly ConsumerDependency[],
): Lockfile {
  const packages: Record<string, LockEntry> = {
    "": {
      name: consumerName,
      dependencies: Object.fromEntries(dependencies.map(({ name, spec }) => [name, spec])),
    },
  };
  const visit = (location: string, entry: LockEntry, moveFrom: string, moveTo: string) => {
    const wanted = {
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...Object.fromEntries(
        Object.entries(entry.peerDependencies ?? {}).filter(
          ([name]) => entry.peerDependenciesMeta?.[name]?.optional !== true,
        ),
      ),
    };
    for (const name of Object.keys(wanted)) {
      const found = locate(repository, location, name);
      if (found === undefined) {
        if (entry.optionalDependencies?.[name] !== undefined) continue;
        throw new Error(`${name} (wanted by ${location || "the root"}) is not in the lockfile`);
      }
      const target =
        moveFrom !== "" && found.startsWith(`${moveFrom}/`)
          ? `${moveTo}${found.slice(moveFrom.length)}`
          : found;
      if (packages[target]) continue;
      const copy = Object.fromEntries(
        Object.entries(repository.packages[found] ?? {}).filter(
          ([field]) => !REPOSITORY_FLAGS.includes(field),
        ),
      );
      packages[target] = copy;
      visit(found, copy, moveFrom, moveTo);
    }
  };
  for (const dependency of dependencies) {
    const location = `node_modules/${dependency.name}`;
    packages[location] = dependency.entry;
    visit(dependency.resolvesFrom, dependency.entry, dependency.resolvesFrom, location);
  }
  return { lockfileVersion: 3, packages };
}
