import { systemClock } from "../ports/messaging.ts";
import { loadSimulationCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { undeleteCheckpoint } from "../usecases/catalog/undelete-checkpoint.ts";
import { catalog } from "../wiring/catalog.ts";
import { eventPublisher } from "../wiring/events.ts";
import { archiveStore } from "../wiring/objects.ts";

/** What the undelete demo needs from the running local stack. */
export interface UndeleteDemoOptions {
  /** The demo simulations, in the config file's order; the first with a trashed checkpoint. */
  simulations: readonly string[];
  print: (line: string) => void;
}

/**
 * Part of the demo's end: takes the newest checkpoint that retention moved to the trash, of the
 * first of `simulations` that has one, back out of it, through the same use case as `simsnap checkpoints undelete ID` (the API's
 * `POST /checkpoints/{id}/undelete`), so a run shows a prune undone: the file copied back from
 * `<prefix>/trash/` and the record COMPLETE again.
 */
export async function undeleteDemo(options: UndeleteDemoOptions): Promise<void> {
  const adapters = {
    ...catalog("api"),
    store: archiveStore("api"),
    events: eventPublisher("api"),
    clock: systemClock,
  };
  for (const simulation of options.simulations) {
    const trashed = (await loadSimulationCheckpoints(adapters.checkpoints, simulation))
      .reverse()
      .find((c) => c.state === "DELETED" && c.trash !== undefined);
    if (!trashed) continue;
    const back = await undeleteCheckpoint(trashed.id, adapters);
    options.print(
      `  ↶ undeleted ${back.id.slice(0, 8)} of ${simulation} (pruned, to be purged after ${trashed.purgeAfter ?? "?"}): ${back.state} again at ${back.location?.key ?? "?"}, as \`simsnap checkpoints undelete ${back.id.slice(0, 8)}\` does`,
    );
    return;
  }
  options.print("  ↶ nothing is in the trash to undelete: retention removed no snapshot file yet");
}
