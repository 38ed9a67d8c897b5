import * as z from "zod";
import { ValidationError } from "./errors.ts";
import {
  commitRuleOf,
  CommitConfigSchema,
  RelativePathSchema,
  type CommitRule,
  type SeenObject,
  type SeenUpload,
} from "./file-commit.ts";
import {
  compileLayout,
  LayoutPatternSchema,
  matchLayout,
  type CompiledLayout,
  type LayoutFields,
} from "./file-layout.ts";
import {
  FILE_PRESET_NAMES,
  FILE_PRESETS,
  type FilePreset,
  type FilePresetName,
} from "./file-presets.ts";
import {
  compileMetricPath,
  MetricPathSchema,
  parseSidecarJson,
  readMetric,
  type MetricPath,
} from "./metric-path.ts";
import { globToRegExp, GlobSchema } from "./retention.ts";
import { hasDotSegment } from "./s3-key.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * A source of checkpoints another tool writes: a prefix in a bucket and how the tool lays out,
 * finishes and describes its checkpoints there. This module reads object listings through a
 * source: which keys belong to which checkpoint, and the metrics in a checkpoint's sidecar. It is
 * pure; listing, reading and deleting objects belong to the files provider.
 */

/**
 * Where a tool writes its checkpoints: `/`-separated segments, none empty, `.` or `..`. Any other
 * character is allowed, unlike simsnap's own snapshot prefix: simsnap never writes here under a
 * name of its own, it reads and deletes what the tool wrote, so the prefix is the tool's choice.
 * Never the whole bucket: discovery lists only under configured prefixes.
 */
export const SourcePrefixSchema = lazySchema(() =>
  z
    .string()
    .min(1, "must name a prefix; simsnap never scans a whole bucket")
    .refine(
      (prefix) => !prefix.startsWith("/") && !prefix.endsWith("/") && !prefix.includes("//"),
      'must be key segments separated by "/", with no leading or trailing "/"',
    )
    .refine((prefix) => !hasDotSegment(prefix), 'must not have a "." or ".." segment'),
);

/** A glob for names a tool writes while a checkpoint is unfinished, matched against one segment. */
const TemporaryNameSchema = lazySchema(() =>
  GlobSchema.refine(
    (glob) => !glob.includes("/"),
    'is matched against one path segment, so it must not contain "/"',
  ),
);

/** One metric read from a sidecar: the file inside the checkpoint and the path to the number. */
const MetricSourceSchema = lazySchema(() =>
  z.strictObject({
    /** Defaults to the preset's sidecar (`trainer_state.json` for `huggingface`). */
    file: RelativePathSchema.optional(),
    path: MetricPathSchema,
  }),
);

/** A metric's name as retention's `keepBest.metric` names it; the catalog keeps at most 256. */
const MetricNameSchema = lazySchema(() =>
  z
    .string()
    .min(1, "a metric name must not be empty")
    .max(256, "a metric name must be at most 256 characters"),
);

/**
 * A files source as configured. `preset` fills in what a tool does by default; `layout` and
 * `commit` replace the preset's, `temporaryNames` add to its, and `metrics` replaces its default
 * metrics. Without a preset, `layout` is required, and `commit` too for a directory layout.
 */
export const FileSourceConfigSchema = lazySchema(() =>
  z
    .strictObject({
      prefix: SourcePrefixSchema,
      preset: z
        .enum(FILE_PRESET_NAMES, { error: `must be one of ${FILE_PRESET_NAMES.join(", ")}` })
        .optional(),
      layout: LayoutPatternSchema.optional(),
      commit: CommitConfigSchema.optional(),
      temporaryNames: z.array(TemporaryNameSchema).default([]),
      metrics: z.record(MetricNameSchema, MetricSourceSchema).optional(),
    })
    .superRefine((config, ctx) => {
      try {
        compileFileSource(config);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        for (const detail of error.details) {
          ctx.addIssue({ code: "custom", path: detail.path.split("."), message: detail.message });
        }
      }
    }),
);
/** A files source as configured, validated. */
export type FileSourceConfig = z.output<typeof FileSourceConfigSchema>;

/**
 * The sources of a deployment. Their prefixes may not nest: an object under both would belong to
 * two checkpoints, and pruning one would delete part of the other.
 */
export const FileSourcesSchema = lazySchema(() =>
  z.array(FileSourceConfigSchema).superRefine((sources, ctx) => {
    sources.forEach((a, i) => {
      sources.forEach((b, j) => {
        if (
          i < j &&
          (`${a.prefix}/`.startsWith(`${b.prefix}/`) || `${b.prefix}/`.startsWith(`${a.prefix}/`))
        ) {
          ctx.addIssue({
            code: "custom",
            path: [j, "prefix"],
            message: `prefixes ${a.prefix} and ${b.prefix} overlap; an object may belong to one source only`,
          });
        }
      });
    });
  }),
);

/** One metric a source reads, compiled. */
export interface SourceMetric {
  readonly name: string;
  readonly file: string;
  readonly path: MetricPath;
}

/** A source compiled for reading listings; build it with `compileFileSource`. */
export interface FileSource {
  readonly prefix: string;
  readonly preset?: FilePresetName;
  readonly layout: CompiledLayout;
  readonly commit: CommitRule;
  readonly temporaryNames: readonly string[];
  readonly metrics: readonly SourceMetric[];
}

/**
 * Resolves a validated source config against its preset and compiles it. The rules, each named
 * in the error when broken: a layout comes from the config or the preset; a single-object layout
 * takes no commit rule (S3 shows an object only once whole) and no metrics (there is no sidecar
 * beside it); a directory layout has a commit rule; metrics name a file when the preset has no
 * sidecar; and no marker or sidecar matches a temporary name, since it would never be seen.
 */
export function compileFileSource(config: FileSourceConfig): FileSource {
  function fail(path: string, why: string): never {
    throw new ValidationError(`invalid files source ${config.prefix}: ${path}: ${why}`, [
      { path, message: why },
    ]);
  }
  const preset: FilePreset | undefined =
    config.preset === undefined ? undefined : FILE_PRESETS[config.preset];
  const pattern = config.layout ?? preset?.layout;
  if (pattern === undefined) fail("layout", "name a layout, or a preset that has one");
  const layout = compileLayout(pattern);
  const temporaryNames = [
    ...new Set([...(preset?.temporaryNames ?? []), ...config.temporaryNames]),
  ];
  const temporary = (path: string): string | undefined =>
    temporaryNames.find((glob) => path.split("/").some((s) => globToRegExp(glob).test(s)));

  let commit: CommitRule;
  if (layout.kind === "object") {
    if (config.commit !== undefined) {
      fail(
        "commit",
        "a single-object layout takes no commit rule: S3 shows an object only once it is whole",
      );
    }
    commit = { kind: "atomic" };
  } else {
    const configured = config.commit === undefined ? preset?.commit : commitRuleOf(config.commit);
    if (configured === undefined || configured.kind === "atomic") {
      fail("commit", "a directory layout needs a commit rule: { marker } or { quietSeconds }");
    }
    commit = configured;
  }
  if (commit.kind === "marker" && temporary(commit.marker) !== undefined) {
    fail(
      "commit.marker",
      `${commit.marker} matches the temporary name ${temporary(commit.marker)}, so it would never be seen`,
    );
  }

  const wanted: Record<string, { file?: string; path: string }> =
    config.metrics ??
    Object.fromEntries(
      Object.entries(preset?.metrics ?? {}).map(([name, path]) => [name, { path }]),
    );
  const metrics = Object.entries(wanted).map(([name, metric]): SourceMetric => {
    if (layout.kind === "object") {
      fail(
        `metrics.${name}`,
        "a single-object checkpoint has no sidecar file to read metrics from",
      );
    }
    const file = metric.file ?? preset?.sidecar;
    if (file === undefined)
      fail(`metrics.${name}.file`, "name the sidecar file (the preset has none)");
    if (temporary(file) !== undefined) {
      fail(
        `metrics.${name}.file`,
        `${file} matches the temporary name ${temporary(file)}, so it would never be read`,
      );
    }
    return { name, file, path: compileMetricPath(metric.path) };
  });
  return {
    prefix: config.prefix,
    ...(config.preset === undefined ? {} : { preset: config.preset }),
    layout,
    commit,
    temporaryNames,
    metrics,
  };
}

/** Where an object falls in a source: its checkpoint, the layout's fields, its path inside. */
export interface SourceKeyMatch {
  /** The checkpoint's key: its directory (ending in `/`), or the object's key for single objects. */
  checkpointKey: string;
  fields: LayoutFields;
  relativePath: string;
}

/**
 * Which checkpoint of `source` the object `key` belongs to, or undefined when it belongs to none:
 * outside the prefix, not matching the layout, with a path segment matching a temporary name
 * (anywhere in the key below the prefix, so a temporary directory and everything in it is
 * ignored), or with an empty, `.` or `..` segment (tools mapping keys to paths would resolve it
 * elsewhere; such an object is never touched). Such objects are not simsnap's to catalog, prune
 * or restore.
 */
export function classifyKey(source: FileSource, key: string): SourceKeyMatch | undefined {
  const head = `${source.prefix}/`;
  if (!key.startsWith(head)) return undefined;
  const path = key.slice(head.length);
  const segments = path.split("/");
  // A trailing "/" (a directory placeholder) leaves one empty last segment, which is allowed.
  const named = path.endsWith("/") ? segments.slice(0, -1) : segments;
  if (named.some((s) => s === "" || s === "." || s === "..")) return undefined;
  if (source.temporaryNames.some((glob) => named.some((s) => globToRegExp(glob).test(s)))) {
    return undefined;
  }
  const match = matchLayout(source.layout, path);
  if (match === undefined) return undefined;
  return {
    checkpointKey: head + match.checkpointPath,
    fields: match.fields,
    relativePath: match.relativePath,
  };
}

/** An object as a listing reports it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** A multipart upload as ListMultipartUploads reports it. */
export interface ListedUpload {
  readonly key: string;
  readonly initiated: Date;
}

/** The objects and uploads a listing shows under one checkpoint; input to `decideCommit`. */
export interface SeenCheckpoint {
  readonly key: string;
  readonly fields: LayoutFields;
  readonly objects: readonly (ListedObject & SeenObject)[];
  readonly uploads: readonly (ListedUpload & SeenUpload)[];
}

/**
 * Groups a listing of `source`'s prefix into its checkpoints, ordered by key, dropping every
 * object and upload that belongs to none (see `classifyKey`). A checkpoint seen only through an
 * upload in progress is included, so it can be cataloged as PENDING before its first object lands.
 */
export function groupCheckpoints(
  source: FileSource,
  objects: Iterable<ListedObject>,
  uploads: Iterable<ListedUpload> = [],
): SeenCheckpoint[] {
  const groups = new Map<
    string,
    {
      key: string;
      fields: LayoutFields;
      objects: (ListedObject & SeenObject)[];
      uploads: (ListedUpload & SeenUpload)[];
    }
  >();
  const groupOf = (match: SourceKeyMatch) => {
    let group = groups.get(match.checkpointKey);
    if (group === undefined) {
      group = { key: match.checkpointKey, fields: match.fields, objects: [], uploads: [] };
      groups.set(match.checkpointKey, group);
    }
    return group;
  };
  for (const object of objects) {
    const match = classifyKey(source, object.key);
    if (match !== undefined)
      groupOf(match).objects.push({ ...object, relativePath: match.relativePath });
  }
  for (const upload of uploads) {
    const match = classifyKey(source, upload.key);
    if (match !== undefined)
      groupOf(match).uploads.push({ ...upload, relativePath: match.relativePath });
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The sidecar files (paths inside a checkpoint) to read for `source`'s metrics, each once. */
export const sidecarFiles = (source: FileSource): string[] => [
  ...new Set(source.metrics.map((metric) => metric.file)),
];

/**
 * The metrics of one checkpoint, from the text of its sidecar files (path inside the checkpoint
 * → text; a file not read is absent). Each file is parsed once. A metric whose file is missing,
 * is not JSON, or does not hold a finite number at the path is left out rather than failing the
 * checkpoint: retention treats a checkpoint without the metric by its own rule.
 */
export function readMetrics(
  source: FileSource,
  files: ReadonlyMap<string, string>,
): Record<string, number> {
  const parsed = new Map<string, unknown>();
  const documentOf = (file: string): unknown => {
    if (!parsed.has(file)) {
      const text = files.get(file);
      let document: unknown;
      try {
        document = text === undefined ? undefined : parseSidecarJson(text);
      } catch {
        document = undefined;
      }
      parsed.set(file, document);
    }
    return parsed.get(file);
  };
  const metrics: Record<string, number> = {};
  for (const metric of source.metrics) {
    const value = readMetric(metric.path, documentOf(metric.file));
    if (value !== undefined) metrics[metric.name] = value;
  }
  return metrics;
}
