import type { Checkpoint } from "../../domain/checkpoint.ts";
import { editCheckpoint, type CheckpointPatch } from "../../domain/checkpoint-edit.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";
import type {
  PlatformCheckpointChanges,
  ProviderDirectory,
} from "../../ports/simulation-provider.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";
import { getCheckpoint } from "./list-checkpoints.ts";

/** What a user's edit needs. */
export interface UpdateCheckpointDeps {
  checkpoints: CheckpointStore;
  clock: Clock;
  /** The provider a platform-held checkpoint names, which is told of a rename or favorite. */
  providers: Pick<ProviderDirectory, "byName">;
}

/**
 * The platform's share of an edit: the name and favorite a platform-held checkpoint (still on the
 * platform: PENDING or COMPLETE) has there too; description and tags are simsnap's own.
 */
function platformChanges(
  before: Checkpoint,
  after: Checkpoint,
): PlatformCheckpointChanges | undefined {
  if (!before.platformId || (before.state !== "PENDING" && before.state !== "COMPLETE")) {
    return undefined;
  }
  const changes: PlatformCheckpointChanges = {
    ...(after.name !== before.name ? { name: after.name } : {}),
    ...(after.favorite !== before.favorite ? { favorite: after.favorite } : {}),
  };
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/** How many times an edit is re-applied to a record that simsnap changed meanwhile. */
const ATTEMPTS = 3;

/**
 * Applies a user's change (name, description, tags, favorite) with a conditional save. With
 * `expectedVersion` (the API's `If-Match`) the change applies only to that version, so two people
 * editing the same checkpoint cannot overwrite each other unknowingly. Without it the change is
 * re-applied on top of whatever simsnap wrote meanwhile (a completion, say): the user's fields and
 * simsnap's never overlap, so nothing is lost. A platform-held checkpoint's name and favorite
 * are PATCHed to its platform first, then saved: a refusal there changes nothing here, and a
 * crash in between leaves the platform newer, which the catalog mirror then takes over.
 */
export async function updateCheckpoint(
  id: string,
  patch: CheckpointPatch,
  options: { expectedVersion?: number },
  deps: UpdateCheckpointDeps,
): Promise<Checkpoint> {
  for (let attempt = 1; ; attempt++) {
    const current = await getCheckpoint(id, deps);
    if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
      throw new ConcurrentModificationError(
        `Checkpoint ${id} is at version ${current.version}, not ${options.expectedVersion}; read it again and retry`,
      );
    }
    const { checkpoint, changed } = editCheckpoint(current, patch, deps.clock.now());
    if (!changed) return checkpoint;
    const changes = platformChanges(current, checkpoint);
    if (changes && current.platformId) {
      await heldCheckpointsOf(deps.providers.byName(current.provider)).update(
        current.platformId,
        changes,
      );
    }
    try {
      await deps.checkpoints.save(checkpoint);
      return checkpoint;
    } catch (error) {
      const retry =
        error instanceof ConcurrentModificationError &&
        options.expectedVersion === undefined &&
        attempt < ATTEMPTS;
      if (!retry) throw error;
    }
  }
}
