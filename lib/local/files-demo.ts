import type { Checkpoint } from "../domain/checkpoint.ts";
import { ObjectSetManifestSchema } from "../domain/object-set-manifest.ts";
import type { ArchiveStore } from "../ports/archive-store.ts";
import type { CheckpointStore } from "../ports/catalog.ts";
import type { ProviderDirectory } from "../ports/simulation-provider.ts";
import { loadSimulationCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { listObjectSet } from "../usecases/files/object-set-listing.ts";
import { fileSourcesOf, settingsFor } from "../wiring/settings.ts";
import { apiRestoreAdapters, restoreAndAwait } from "./restore-demo.ts";

/** What the files restore demo needs from the running local stack. */
export interface FilesRestoreDemoOptions {
  print: (line: string) => void;
  timeoutMs: number;
}

/**
 * The files part of the demo's end: restores one checkpoint the demo trainer wrote from its
 * archive under `<source>/restored/<checkpoint>/` through the same use case `POST
 * /checkpoints/{id}/restore` calls (the copy runs in the restore-checkpoint function, fed by the
 * local restore queue), preferring one retention pruned, and prints the `s3://` URI with whether
 * the restored objects match the archive's manifest (every key, and its size; each copy's
 * checksum was checked by the restore itself), after checking in the bucket what retention did
 * (see `prunedAudit`). Nothing happens when no files sources are configured or nothing was
 * cataloged in them.
 */
export async function filesRestoreDemo(options: FilesRestoreDemoOptions): Promise<void> {
  const { print } = options;
  const settings = settingsFor("api");
  const files = fileSourcesOf(settings);
  if (files === undefined) return;
  const adapters = { ...apiRestoreAdapters(settings), files };
  const sets = await filesCheckpoints(adapters);
  if (sets.length === 0) return;
  print(await prunedAudit(sets, adapters.storage));
  const chosen = archivedSet(sets);
  if (!chosen?.archive || !chosen.location) {
    print("  ↺ no files checkpoint is archived yet: nothing to restore from an archive");
    return;
  }
  const source = files.sources.find((s) => chosen.location?.key.startsWith(`${s.prefix}/`));
  const prefix = `${source?.prefix ?? "restored"}/restored/${chosen.name.replace(/[^\w.-]+/g, "-")}/`;
  const { job: current } = await restoreAndAwait(
    { checkpointId: chosen.id, clientToken: `files-demo-${chosen.id}`, target: { prefix } },
    adapters,
    { what: "files demo restore", timeoutMs: options.timeoutMs },
  );
  const what = `files checkpoint ${chosen.name} (${chosen.state}, ${chosen.archive.objects ?? "?"} objects)`;
  if (current?.status !== "SUCCEEDED" || !current.restore?.uri) {
    print(
      `  ↺ restore of ${what} is ${current?.status ?? "gone"}${
        current?.error ? `: ${current.error.message}` : ""
      }`,
    );
    return;
  }
  const mismatch = await manifestMismatch(adapters.storage, chosen.archive, files.bucket, prefix);
  print(
    `  ↺ ${what} restored from its archive to ${current.restore.uri}: ${
      mismatch === undefined ? "matches manifest" : `DOES NOT match its manifest (${mismatch})`
    }`,
  );
}

/** Every checkpoint of a provider that keeps sets of objects, across the catalog's runs. */
async function filesCheckpoints(adapters: {
  checkpoints: CheckpointStore;
  providers: ProviderDirectory;
}): Promise<Checkpoint[]> {
  const sets: Checkpoint[] = [];
  for (const simulation of await adapters.checkpoints.listSimulations()) {
    for (const checkpoint of await loadSimulationCheckpoints(adapters.checkpoints, simulation)) {
      const provider = adapters.providers.all().find((p) => p.name === checkpoint.provider);
      if (provider?.capabilities.checkpointStorage === "object-set") sets.push(checkpoint);
    }
  }
  return sets;
}

/** The newest archived set (one retention pruned first). */
function archivedSet(sets: readonly Checkpoint[]): Checkpoint | undefined {
  const newestFirst = sets
    .filter((c) => c.archive?.objects !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return newestFirst.find((c) => c.state === "DELETED") ?? newestFirst[0];
}

/**
 * What retention did to the sets, checked in the bucket: every pruned (DELETED) checkpoint has no
 * object left under its key, and every half-written (PENDING) one still has all it had.
 */
async function prunedAudit(sets: readonly Checkpoint[], storage: ArchiveStore): Promise<string> {
  const left = async (checkpoint: Checkpoint): Promise<number> =>
    checkpoint.location ? (await listObjectSet(storage, checkpoint.location)).members.length : 0;
  const deleted = sets.filter((c) => c.state === "DELETED");
  const pending = sets.filter((c) => c.state === "PENDING");
  const husks: string[] = [];
  for (const checkpoint of deleted) if ((await left(checkpoint)) > 0) husks.push(checkpoint.name);
  let untouched = 0;
  for (const checkpoint of pending) if ((await left(checkpoint)) > 0) untouched++;
  const verdict =
    husks.length === 0
      ? "no object left under any"
      : `objects left under ${husks.length}: ${husks.slice(0, 3).join(", ")}`;
  return `  ✂ files: ${deleted.length} pruned checkpoints, ${verdict}; ${untouched} of ${pending.length} half-written (PENDING) ones untouched`;
}

/**
 * Why the objects under `prefix` are not what the manifest at `archive` lists (a key missing or
 * extra, a size differing), or undefined when they are.
 */
async function manifestMismatch(
  storage: ArchiveStore,
  archive: NonNullable<Checkpoint["archive"]>,
  bucket: string,
  prefix: string,
): Promise<string | undefined> {
  const text = await storage.getText(archive, 64 * 1024 ** 2);
  if (text === undefined) return `the manifest s3://${archive.bucket}/${archive.key} is gone`;
  const manifest = ObjectSetManifestSchema.parse(JSON.parse(text));
  const listed = new Map<string, number>();
  for await (const object of storage.list(bucket, prefix)) {
    listed.set(object.key.slice(prefix.length), object.size);
  }
  for (const entry of manifest.objects) {
    const size = listed.get(entry.key);
    if (size === undefined) return `${entry.key} is missing`;
    if (size !== entry.size)
      return `${entry.key} is ${size} bytes, the manifest says ${entry.size}`;
    listed.delete(entry.key);
  }
  const extra = [...listed.keys()];
  return extra.length === 0 ? undefined : `${extra.length} objects not in the manifest`;
}
