import type { Command } from "commander";
import { z } from "zod";
import type { Checkpoint, CheckpointOrdering } from "../../packages/client/src/types.ts";
import { CHECKPOINT_ORDER_FIELDS } from "../../lib/domain/checkpoint-query.ts";
import { CheckpointStateSchema } from "../../lib/domain/checkpoint.ts";
import { SimulationNameSchema } from "../../lib/domain/names.ts";
import {
  ApiOptionsSchema,
  clientFor,
  fields,
  formatBytes,
  formatTime,
  parseCommandInput,
  table,
  withApiOptions,
} from "../api-command.ts";
import { resolveCheckpoint } from "../ids.ts";
import type { CliIo } from "../io.ts";

const isoTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
});
const orderingKey = z
  .string()
  .refine(
    (key) => (CHECKPOINT_ORDER_FIELDS as readonly string[]).includes(key.replace(/^-/, "")),
    `must be one of ${CHECKPOINT_ORDER_FIELDS.join(", ")}, optionally prefixed with - (descending)`,
  );

const ListOptionsSchema = ApiOptionsSchema.extend({
  simulation: SimulationNameSchema.optional(),
  run: z.string().min(1).optional(),
  state: z.array(CheckpointStateSchema).optional(),
  favorite: z.boolean().optional(),
  tag: z.array(z.string().min(1)).optional(),
  search: z.string().min(1).optional(),
  createdAfter: isoTime.optional(),
  createdBefore: isoTime.optional(),
  ordering: z.array(orderingKey).optional(),
  limit: z.coerce
    .number({ error: "must be a whole number of checkpoints" })
    .int("must be a whole number of checkpoints")
    .positive("must be at least 1")
    .default(50),
});

const IdSchema = z.string().min(1, "must not be empty").max(128);
const IdInputSchema = ApiOptionsSchema.extend({ id: IdSchema });
const RenameInputSchema = IdInputSchema.extend({
  name: z.string().trim().min(1, "must not be empty").max(256, "must be at most 256 characters"),
});
const DeleteInputSchema = IdInputSchema.extend({ force: z.boolean().default(false) });

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(",").filter((part) => part !== ""),
];

function rowOf(checkpoint: Checkpoint): string[] {
  return [
    checkpoint.id,
    checkpoint.simulation,
    checkpoint.state,
    checkpoint.favorite ? "★" : "",
    checkpoint.verification?.status ?? "",
    formatTime(checkpoint.createdAt),
    formatBytes(checkpoint.size),
    checkpoint.name,
    checkpoint.tags.join(","),
  ];
}

/** The detail view of one checkpoint. */
export function describeCheckpoint(checkpoint: Checkpoint): string[] {
  const entries: [string, string][] = [
    ["id", checkpoint.id],
    ["name", checkpoint.name],
    ["simulation", checkpoint.simulation],
    ["state", checkpoint.state],
    ["favorite", checkpoint.favorite ? "yes" : "no"],
    ["trigger", checkpoint.trigger],
    ["tags", checkpoint.tags.length > 0 ? checkpoint.tags.join(", ") : "-"],
    ["created", formatTime(checkpoint.createdAt)],
    ["modified", formatTime(checkpoint.modifiedAt)],
  ];
  if (checkpoint.description !== "") entries.push(["description", checkpoint.description]);
  if (checkpoint.run !== undefined) entries.push(["run", checkpoint.run]);
  if (checkpoint.completedAt !== undefined)
    entries.push(["completed", formatTime(checkpoint.completedAt)]);
  if (checkpoint.location !== undefined)
    entries.push(["file", `s3://${checkpoint.location.bucket}/${checkpoint.location.key}`]);
  if (checkpoint.size !== undefined) entries.push(["size", formatBytes(checkpoint.size)]);
  if (checkpoint.archive !== undefined) {
    entries.push([
      "archive",
      `s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} (${checkpoint.archive.storageClass})`,
    ]);
  }
  // In the trash: where the file waits and until when it can be undeleted; or when it was purged.
  if (checkpoint.trash !== undefined) {
    entries.push([
      "trash",
      `s3://${checkpoint.trash.bucket}/${checkpoint.trash.key} until ${formatTime(checkpoint.purgeAfter ?? "")} (undelete to keep it)`,
    ]);
  }
  // Kept by its platform, whose delete the purge makes; until then undelete brings it back.
  if (checkpoint.trashOnPlatform && checkpoint.purgedAt === undefined) {
    entries.push([
      "trash",
      `kept on ${checkpoint.provider} until ${formatTime(checkpoint.purgeAfter ?? "")} (undelete to keep it)`,
    ]);
  }
  if (checkpoint.purgedAt !== undefined) entries.push(["purged", formatTime(checkpoint.purgedAt)]);
  if (checkpoint.error !== undefined)
    entries.push(["error", `${checkpoint.error.code}: ${checkpoint.error.message}`]);
  if (checkpoint.jobId !== undefined) entries.push(["job", checkpoint.jobId]);
  if (checkpoint.verification !== undefined) {
    const v = checkpoint.verification;
    entries.push([
      "verified",
      `${v.status} ${formatTime(v.at)} in ${(v.durationMs / 1000).toFixed(1)} s: ${v.detail}`,
    ]);
  }
  entries.push(["version", String(checkpoint.version)]);
  return fields(entries);
}

function print(io: CliIo, json: boolean, checkpoint: Checkpoint, summary: string): void {
  if (json) io.out(JSON.stringify(checkpoint));
  else io.out(summary);
}

/**
 * `simsnap checkpoints list|show|rename|favorite|unfavorite|delete|undelete`: the catalog, by hand. Listing
 * follows the API's pages until `--limit` checkpoints are shown; filters are the API's own.
 */
export function registerCheckpointCommands(program: Command, io: CliIo): void {
  const checkpoints = program.command("checkpoints").description("find and manage checkpoints");

  withApiOptions(
    checkpoints
      .command("list")
      .description("list checkpoints, newest first unless --ordering says otherwise")
      .option("--simulation <name>", "only this simulation's")
      .option("--run <executionId>", "only those of this run")
      .option("--state <state>", "only in this state (repeatable, or comma-separated)", collect)
      .option("--favorite", "only favorites")
      .option("--no-favorite", "only non-favorites")
      .option("--tag <tag>", "only those with this tag (repeatable: all of them)", collect)
      .option("--search <text>", "text in the name or description (any case)")
      .option("--created-after <iso>", "created at or after")
      .option("--created-before <iso>", "created before")
      .option(
        "--ordering <field>",
        `${CHECKPOINT_ORDER_FIELDS.join("|")}, - prefix for descending (repeatable)`,
        collect,
      )
      .option("--limit <n>", "show at most this many", "50"),
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseCommandInput(ListOptionsSchema, raw);
    const query = {
      simulation: options.simulation,
      run: options.run,
      state: options.state,
      favorite: options.favorite,
      tag: options.tag,
      search: options.search,
      createdAfter: options.createdAfter,
      createdBefore: options.createdBefore,
      ordering: options.ordering as CheckpointOrdering[] | undefined,
      limit: Math.min(options.limit + 1, 1000),
    };
    const found: Checkpoint[] = [];
    for await (const checkpoint of clientFor(options).checkpoints.list(query)) {
      found.push(checkpoint);
      if (found.length > options.limit) break;
    }
    const shown = found.slice(0, options.limit);
    if (options.json) {
      io.out(JSON.stringify(shown));
      return;
    }
    if (shown.length === 0) {
      io.out("no checkpoints match");
      return;
    }
    const header = [
      "ID",
      "SIMULATION",
      "STATE",
      "FAV",
      "VERIFIED",
      "CREATED",
      "SIZE",
      "NAME",
      "TAGS",
    ];
    for (const line of table(header, shown.map(rowOf))) io.out(line);
    if (found.length > options.limit) {
      io.out(`(first ${options.limit} shown; more match: raise --limit or narrow the filters)`);
    }
  });

  withApiOptions(
    checkpoints.command("show <id>").description("show one checkpoint in full"),
  ).action(async (id: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(IdInputSchema, { ...raw, id }, ["id"]);
    const checkpoint = await resolveCheckpoint(clientFor(options), options.id);
    if (options.json) io.out(JSON.stringify(checkpoint));
    else for (const line of describeCheckpoint(checkpoint)) io.out(line);
  });

  withApiOptions(
    checkpoints.command("rename <id> <name>").description("give a checkpoint a new name"),
  ).action(async (id: string, name: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(RenameInputSchema, { ...raw, id, name }, ["id", "name"]);
    const client = clientFor(options);
    const { id: full } = await resolveCheckpoint(client, options.id);
    const checkpoint = await client.checkpoints.update(full, { name: options.name });
    print(io, options.json, checkpoint, `renamed ${checkpoint.id} to "${checkpoint.name}"`);
  });

  for (const [command, favorite] of [
    ["favorite", true],
    ["unfavorite", false],
  ] as const) {
    withApiOptions(
      checkpoints
        .command(`${command} <id>`)
        .description(
          favorite
            ? "mark a checkpoint favorite: retention never removes it"
            : "let retention remove a checkpoint again",
        ),
    ).action(async (id: string, raw: Record<string, unknown>) => {
      const options = parseCommandInput(IdInputSchema, { ...raw, id }, ["id"]);
      const client = clientFor(options);
      const { id: full } = await resolveCheckpoint(client, options.id);
      const checkpoint = await client.checkpoints.update(full, { favorite });
      print(
        io,
        options.json,
        checkpoint,
        `${checkpoint.id} is ${favorite ? "a favorite" : "no longer a favorite"}`,
      );
    });
  }

  withApiOptions(
    checkpoints
      .command("delete <id>")
      .description(
        "delete a COMPLETE checkpoint: DELETED, its file in the trash until purgeAfter (trashDays)",
      )
      .option("--force", "delete it even if it is a favorite"),
  ).action(async (id: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(DeleteInputSchema, { ...raw, id }, ["id"]);
    const client = clientFor(options);
    const { id: full } = await resolveCheckpoint(client, options.id);
    const checkpoint = await client.checkpoints.delete(full, { force: options.force });
    const until = checkpoint.purgeAfter && `; in the trash until ${checkpoint.purgeAfter}`;
    print(
      io,
      options.json,
      checkpoint,
      `deleted ${checkpoint.id} (${checkpoint.name})${until ?? ""}`,
    );
  });

  withApiOptions(
    checkpoints
      .command("undelete <id>")
      .description("bring a DELETED checkpoint back from the trash to COMPLETE (file and catalog)"),
  ).action(async (id: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(IdInputSchema, { ...raw, id }, ["id"]);
    const client = clientFor(options);
    const { id: full } = await resolveCheckpoint(client, options.id);
    const checkpoint = await client.checkpoints.undelete(full);
    print(
      io,
      options.json,
      checkpoint,
      `undeleted ${checkpoint.id} (${checkpoint.name}): COMPLETE`,
    );
  });
}
