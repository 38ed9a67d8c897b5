import * as z from "zod";
import { VerificationSchema } from "./archive.ts";
import { RelativePathSchema } from "./file-commit.ts";
import { isSafeRelativeKey } from "./object-set.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * The manifest of an archived object set (a checkpoint another tool wrote): every object's key
 * relative to the checkpoint, size, ETag and a checksum that was verified against the archive
 * copy. Written beside the archive folder after every copy is verified, so its presence means the
 * archive is whole; a restore checks the archive and the restored copy against it, and a person
 * can check an archive without the catalog.
 */

const IsoDate = z.iso.datetime({ offset: true });

/**
 * A checksum of one object's full content (base64): S3's own full-object checksum when the
 * source and its archive copy share one (`s3-checksum`, no byte read), otherwise a SHA-256
 * streamed from both (`sha256-stream`, servers without checksums such as s3rver).
 */
const EntryChecksumSchema = lazySchema(() =>
  z.object({
    algorithm: z.enum(["CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256"]),
    value: z.string().min(1),
    verification: VerificationSchema,
  }),
);

/** One object of the set. */
export const ObjectSetEntrySchema = lazySchema(() =>
  z.object({
    /** Relative to the checkpoint: its path below a directory, or a single object's file name. */
    key: z
      .string()
      .refine(isSafeRelativeKey, 'must be a relative key without empty, "." or ".." segments'),
    size: z.number().int().nonnegative(),
    /** The source object's ETag when it was archived (a copy in parts has another). */
    etag: z.string().optional(),
    lastModified: IsoDate.optional(),
    checksum: EntryChecksumSchema,
  }),
);
/** One object of an archived set. */
export type ObjectSetEntry = z.infer<typeof ObjectSetEntrySchema>;

/** The manifest of an archived object set; see the module comment. */
export const ObjectSetManifestSchema = lazySchema(() =>
  z
    .object({
      manifestVersion: z.literal("1"),
      kind: z.literal("object-set"),
      simsnapVersion: z.string().min(1),
      checkpointId: z.string().min(1),
      source: z.object({
        bucket: z.string().min(1),
        /** The files source's prefix, as configured. */
        prefix: z.string().min(1),
        /** The checkpoint key: a directory prefix ending in `/`, or a single object's key. */
        key: z.string().min(1),
        layout: z.enum(["directory", "object"]),
        /** The commit marker, which a restore writes last so the copy is not taken as whole early. */
        marker: RelativePathSchema.optional(),
      }),
      archive: z.object({
        bucket: z.string().min(1),
        prefix: z.string().endsWith("/"),
        storageClass: z.string().min(1),
      }),
      objects: z.array(ObjectSetEntrySchema).min(1, "an archived set has at least one object"),
      totals: z.object({
        objects: z.number().int().positive(),
        bytes: z.number().int().nonnegative(),
      }),
      times: z.object({
        checkpointCreatedAt: IsoDate,
        checkpointCompletedAt: IsoDate.optional(),
        archivedAt: IsoDate,
      }),
    })
    .superRefine((manifest, ctx) => {
      const issue = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: "custom", path, message });
      const { source, objects, totals } = manifest;
      if (!source.key.startsWith(`${source.prefix}/`) || source.key === `${source.prefix}/`) {
        issue(["source", "key"], `must lie strictly inside the source prefix ${source.prefix}/`);
      }
      if ((source.layout === "directory") !== source.key.endsWith("/")) {
        issue(["source", "key"], 'must end in "/" exactly when the layout is "directory"');
      }
      if (source.layout === "object") {
        const file = source.key.slice(source.key.lastIndexOf("/") + 1);
        if (objects.length !== 1 || objects[0]?.key !== file) {
          issue(["objects"], `a single-object set holds exactly its file ${file}`);
        }
        if (source.marker !== undefined) issue(["source", "marker"], "a single object has none");
      }
      if (source.marker !== undefined && !objects.some((entry) => entry.key === source.marker)) {
        issue(["source", "marker"], `${source.marker} is not among the objects`);
      }
      const seen = new Set<string>();
      objects.forEach((entry, i) => {
        if (seen.has(entry.key)) issue(["objects", i, "key"], `${entry.key} appears twice`);
        seen.add(entry.key);
      });
      const bytes = objects.reduce((sum, entry) => sum + entry.size, 0);
      if (totals.objects !== objects.length || totals.bytes !== bytes) {
        issue(["totals"], `must be ${objects.length} objects and ${bytes} bytes, as listed`);
      }
    }),
);
/** The manifest of an archived object set. */
export type ObjectSetManifest = z.infer<typeof ObjectSetManifestSchema>;
