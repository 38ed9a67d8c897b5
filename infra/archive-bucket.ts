import { Duration } from "aws-cdk-lib";
import { ObjectLockRetention, StorageClass, type BucketProps } from "aws-cdk-lib/aws-s3";
import { z } from "zod";

/** Storage classes a lifecycle rule may move archives to, coldest last. */
const TRANSITION_CLASSES = {
  STANDARD_IA: StorageClass.INFREQUENT_ACCESS,
  ONEZONE_IA: StorageClass.ONE_ZONE_INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: StorageClass.GLACIER,
  DEEP_ARCHIVE: StorageClass.DEEP_ARCHIVE,
} as const;
type TransitionClass = keyof typeof TRANSITION_CLASSES;

/** How long archives stay in each class: after `afterDays`, they move to `storageClass`. */
export interface ArchiveTransition {
  storageClass: TransitionClass;
  afterDays: number;
}

/** Write-once archives: every version is locked for `days` in S3 Object Lock's `mode`. */
export interface ArchiveObjectLock {
  mode: "GOVERNANCE" | "COMPLIANCE";
  days: number;
}

/** The archive bucket's deployment choices. */
export interface ArchiveBucketOptions {
  /** Config `archive.bucket`; CloudFormation picks a name if absent. */
  bucketName?: string;
  transitions: ArchiveTransition[];
  objectLock?: ArchiveObjectLock;
}

/** Instant retrieval after a month, Deep Archive after half a year. */
export const DEFAULT_ARCHIVE_TRANSITIONS: ArchiveTransition[] = [
  { storageClass: "GLACIER_IR", afterDays: 30 },
  { storageClass: "DEEP_ARCHIVE", afterDays: 180 },
];

const TransitionsSchema = z
  .string()
  .transform((text, ctx): ArchiveTransition[] => {
    if (text.trim() === "none") return [];
    return text.split(",").flatMap((entry) => {
      const match = /^\s*([A-Z_]+):(\d+)\s*$/.exec(entry);
      const storageClass = match?.[1] ?? "";
      if (!match || !Object.hasOwn(TRANSITION_CLASSES, storageClass)) {
        ctx.addIssue({
          code: "custom",
          message: `"${entry.trim()}" must be CLASS:DAYS with CLASS one of ${Object.keys(TRANSITION_CLASSES).join(", ")}`,
        });
        return [];
      }
      return [{ storageClass: storageClass as TransitionClass, afterDays: Number(match[2]) }];
    });
  })
  .superRefine((transitions, ctx) => {
    transitions.forEach((t, i) => {
      const previous = transitions[i - 1];
      if (previous && t.afterDays <= previous.afterDays) {
        ctx.addIssue({ code: "custom", message: "days must increase from one class to the next" });
      }
      if (
        (t.storageClass === "STANDARD_IA" || t.storageClass === "ONEZONE_IA") &&
        t.afterDays < 30
      ) {
        ctx.addIssue({
          code: "custom",
          message: `${t.storageClass} needs at least 30 days (S3's rule)`,
        });
      }
    });
  });

const ObjectLockSchema = z
  .object({
    mode: z.enum(["GOVERNANCE", "COMPLIANCE"], { error: "must be GOVERNANCE or COMPLIANCE" }),
    days: z.coerce
      .number({ error: "must be a number of days" })
      .int("must be a whole number of days")
      .min(1, "must be at least 1 day")
      .max(36_500, "must be at most 36500 days"),
  })
  .optional();

/**
 * Reads the archive choices from CDK context (`-c archiveTransitions=GLACIER_IR:30,DEEP_ARCHIVE:180`
 * or `none`, `-c archiveObjectLockMode=GOVERNANCE|COMPLIANCE`, `-c archiveObjectLockDays=N`), so a
 * typo fails the synth, naming the key, instead of deploying the wrong lifecycle or no lock.
 */
export function readArchiveOptions(
  context: (key: string) => string | undefined,
  bucketName?: string,
): ArchiveBucketOptions {
  const fail = (key: string, error: z.ZodError): never => {
    throw new Error(`${key}: ${error.issues.map((i) => i.message).join("; ")}`);
  };
  const transitionsText = context("archiveTransitions");
  let transitions = DEFAULT_ARCHIVE_TRANSITIONS;
  if (transitionsText !== undefined) {
    const parsed = TransitionsSchema.safeParse(transitionsText);
    transitions = parsed.success ? parsed.data : fail("archiveTransitions", parsed.error);
  }
  const mode = context("archiveObjectLockMode");
  const days = context("archiveObjectLockDays");
  let objectLock: ArchiveObjectLock | undefined;
  if (mode !== undefined || days !== undefined) {
    const parsed = ObjectLockSchema.safeParse({ mode, days });
    objectLock = parsed.success
      ? parsed.data
      : fail("archiveObjectLockMode/archiveObjectLockDays", parsed.error);
  }
  return { bucketName, transitions, objectLock };
}

/**
 * The archive bucket's own properties: lifecycle transitions to colder classes and, when asked
 * for, S3 Object Lock with a default retention (which needs versioning; noncurrent versions then
 * expire once their lock has run out, so overwritten manifests do not pile up).
 */
export function archiveBucketProps(options: ArchiveBucketOptions): Partial<BucketProps> {
  const lock = options.objectLock;
  return {
    bucketName: options.bucketName,
    versioned: lock !== undefined,
    objectLockEnabled: lock ? true : undefined,
    objectLockDefaultRetention:
      lock &&
      (lock.mode === "COMPLIANCE"
        ? ObjectLockRetention.compliance(Duration.days(lock.days))
        : ObjectLockRetention.governance(Duration.days(lock.days))),
    lifecycleRules: [
      {
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        transitions: options.transitions.map((t) => ({
          storageClass: TRANSITION_CLASSES[t.storageClass],
          transitionAfter: Duration.days(t.afterDays),
        })),
        ...(lock ? { noncurrentVersionExpiration: Duration.days(lock.days) } : {}),
      },
    ],
  };
}
