/**
 * A function's IAM grants, derived from its declaration in `lib/topology.ts` (`needs` and
 * `sendsTo`) and nothing else: no function is named here, so a grant cannot drift from what the
 * handler builds (the builders in `lib/wiring/` refuse what is not declared, and
 * test/unit/wiring/needs.test.ts holds each bundle to its declaration).
 */
import { Aws, Fn, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IEventBus } from "aws-cdk-lib/aws-events";
import { Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { callsAir } from "../lib/settings.ts";
import { catalogTable } from "../lib/adapters/dynamodb/table-schema.ts";
import { normalizePrefix, snapshotFolder } from "../lib/domain/snapshot-key.ts";
import { trashFolder } from "../lib/domain/trash.ts";
import {
  topology,
  type ArchiveAction,
  type FilesAccess,
  type FunctionName,
  type FunctionNeeds,
  type ProviderOperation,
  type QueueName,
} from "../lib/topology.ts";
import type { SimsnapFunction } from "./simsnap-function.ts";

/** The resources a declaration may name, as the stateless stack holds them. */
export interface GrantableResources {
  table: ITable;
  eventBus: IEventBus;
  queues: Readonly<Record<QueueName, IQueue>>;
  /** Export name of the snapshot bucket's ARN (see `StatefulStack.snapshotBucketArnExport`). */
  snapshotBucketArnExport: string;
  /** The destination prefix: reports and restored copies are written under it alone. */
  snapshotPrefix: string;
  /** `ownedPrefixes`: snapshot files are read and deleted under these alone. */
  ownedPrefixes: readonly string[];
  /** Export name of the archive bucket's ARN (see `StatefulStack.archiveBucketArnExport`). */
  archiveBucketArnExport: string;
  /** The role restored simulations run with; no iam:PassRole without it. */
  simulationRoleArn?: string;
  /**
   * False when the deployment turns SimSpace Weaver off (`simSpaceWeaverEnabled`): no
   * `simspaceweaver:*` statement and no iam:PassRole (whose only service is SimSpace Weaver).
   */
  simSpaceWeaver?: boolean;
  /** The ARN the NVIDIA Air token's secret is granted by (see `AirTokenSecret`), when configured. */
  airTokenSecretArn?: string;
  /** The restore tests' user check function (config `verification.check.lambdaArn`), if any. */
  userCheckFunctionArn?: string;
  /**
   * The files bucket and its sources' prefixes (config `providers.files`), when configured:
   * `bucketArn` as a policy renders it, `nagName` as cdk-nag names it in a finding's resource.
   */
  files?: { bucketArn: string; nagName: string; prefixes: readonly string[] };
}

/**
 * Grants function `name` what its declaration says, each grant on the narrowest resource that
 * still works: the catalog's operations (Scan only as declared), `events:PutEvents` on the bus,
 * send rights on its queues, its SimSpace Weaver operations (unless turned off), reading the NVIDIA Air token (only
 * where Air operations are declared), snapshot files under the owned prefixes, checkpoint files
 * of other tools under the files sources' prefixes, archive copies, and passing the simulation
 * role.
 */
export function grantNeeds(
  fn: SimsnapFunction,
  name: FunctionName,
  resources: GrantableResources,
): void {
  const spec = topology.functions[name];
  const needs: FunctionNeeds = spec.needs;
  grantCatalog(fn, resources.table, needs);
  if (needs.events) resources.eventBus.grantPutEventsTo(fn.role);
  const sendsTo: readonly QueueName[] = spec.sendsTo;
  for (const queue of sendsTo) resources.queues[queue].grantSendMessages(fn.role);
  const weaver = resources.simSpaceWeaver !== false;
  if (weaver) grantSimulations(fn, needs.provider);
  if (callsAir(needs) && resources.airTokenSecretArn !== undefined) {
    // The token's secret alone, and only its value: not DescribeSecret, not any other secret.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [resources.airTokenSecretArn],
      }),
    );
  }
  const snapshots = needs.snapshots ?? {};
  if (snapshots.read) grantSnapshotRead(fn, resources);
  if (snapshots.delete) grantSnapshotDelete(fn, resources);
  if (snapshots.reports) grantSnapshotWrite(fn, resources, "reports", ["s3:PutObject"]);
  if (snapshots.restoreCopies) {
    grantSnapshotWrite(fn, resources, "restore", ["s3:PutObject", "s3:AbortMultipartUpload"]);
  }
  if (snapshots.trash === "write") {
    grantOwnedFolders(fn, resources, trashFolder, [
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:DeleteObject",
    ]);
  }
  if (snapshots.trash === "delete") {
    grantOwnedFolders(fn, resources, trashFolder, ["s3:DeleteObject"]);
  }
  if (snapshots.undelete) {
    grantOwnedFolders(fn, resources, snapshotFolder, ["s3:PutObject", "s3:AbortMultipartUpload"]);
  }
  if (needs.files && resources.files) grantFiles(fn, needs.files, resources.files);
  if (needs.archive && needs.archive.length > 0) grantArchive(fn, needs.archive, resources);
  if (needs.userCheck && resources.userCheckFunctionArn !== undefined) {
    // That one function, synchronously: the check is the operator's code, not a wildcard.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["lambda:InvokeFunction"],
        resources: [resources.userCheckFunctionArn],
      }),
    );
  }
  if (weaver && needs.passRole && resources.simulationRoleArn) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [resources.simulationRoleArn],
        conditions: { StringEquals: { "iam:PassedToService": "simspaceweaver.amazonaws.com" } },
      }),
    );
  }
}

/**
 * The catalog operations the DynamoDB stores send (a test reads them from
 * `lib/adapters/dynamodb/`): reads by key (one or 100 at a time) and index; conditional puts and
 * updates (the registry's times) when writing; batch puts (the tag cache) and the registry's
 * backfill for a function that keeps the cache; `Scan` only
 * as declared. `jobs` scans the table itself (`GET /jobs` across simulations: jobs have no
 * registry); `openJobs` the sparse `openJobs` index alone, which holds RUNNING jobs only.
 */
function grantCatalog(fn: SimsnapFunction, table: ITable, needs: FunctionNeeds): void {
  const actions = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];
  if (needs.catalog === "cache") actions.push("dynamodb:UpdateItem", "dynamodb:BatchWriteItem");
  if (needs.catalog === "write") actions.push("dynamodb:PutItem", "dynamodb:UpdateItem");
  if (needs.scan === "jobs") actions.push("dynamodb:Scan");
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [table.tableArn] }));
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["dynamodb:Query"],
      resources: Object.values(catalogTable.indexes).map(
        (index) => `${table.tableArn}/index/${index.name}`,
      ),
    }),
  );
  if (needs.scan === "openJobs") {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["dynamodb:Scan"],
        resources: [`${table.tableArn}/index/${catalogTable.indexes.openJobs.name}`],
      }),
    );
  }
}

function grantSimulations(fn: SimsnapFunction, operations: readonly ProviderOperation[]): void {
  const actions = operations.map((operation) => `simspaceweaver:${operation}`);
  const scoped = actions.filter((action) => action !== "simspaceweaver:ListSimulations");
  if (scoped.length > 0) {
    // Pseudo parameters even when the stack has a region, so the acknowledgment below matches.
    const simulations = `arn:${Aws.PARTITION}:simspaceweaver:${Aws.REGION}:${Aws.ACCOUNT_ID}:simulation/*`;
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: scoped, resources: [simulations] }),
    );
    Validations.of(fn.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:simspaceweaver:<AWS::Region>:<AWS::AccountId>:simulation/*]",
      reason:
        "Simulations are started outside simsnap and found at run time (schedule selectors), " +
        "so their names are not known at deploy time; the statement is limited to this " +
        "account's simulations in this region.",
    });
  }
  if (actions.includes("simspaceweaver:ListSimulations")) {
    // A policy of its own, so that its acknowledgment cannot hide another `Resource *`.
    const listing = new Policy(fn, "ListSimulations", {
      statements: [
        new PolicyStatement({ actions: ["simspaceweaver:ListSimulations"], resources: ["*"] }),
      ],
    });
    fn.role.attachInlinePolicy(listing);
    Validations.of(listing).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "simspaceweaver:ListSimulations supports no resource-level permissions.",
    });
  }
}

/** `<prefix>/`, or nothing for the bucket's root. */
const ownedFolder = (prefix: string): string => {
  const clean = normalizePrefix(prefix);
  return clean === "" ? "" : `${clean}/`;
};

/**
 * Read access under the owned prefixes (`<prefix>/*`: snapshot files, restored copies, reports);
 * the rule routes only files in their snapshot folders, and nothing else is ever read. Listing
 * is on the bucket, so that HEAD on a missing key is a 404, not a 403.
 */
function grantSnapshotRead(fn: SimsnapFunction, resources: GrantableResources): void {
  const bucketArn = Fn.importValue(resources.snapshotBucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucketArn] }),
  );
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:GetObject"],
      resources: resources.ownedPrefixes.map((prefix) => `${bucketArn}/${ownedFolder(prefix)}*`),
    }),
  );
  for (const prefix of resources.ownedPrefixes) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resources.snapshotBucketArnExport}/${ownedFolder(prefix)}*]`,
      reason:
        "HeadObject on snapshot files, whose keys are only known from events and listings at " +
        "run time; limited to the prefixes simsnap owns.",
    });
  }
}

/**
 * `s3:DeleteObject` on the snapshot folders of the owned prefixes only (`<prefix>/snapshot/*`):
 * simsnap deletes nothing but snapshot files it owns, and IAM holds that line even if a catalog
 * record (from an older version that cataloged any prefix) names another tool's file.
 */
function grantSnapshotDelete(fn: SimsnapFunction, resources: GrantableResources): void {
  const bucketArn = Fn.importValue(resources.snapshotBucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:DeleteObject"],
      resources: resources.ownedPrefixes.map((prefix) => `${bucketArn}/${snapshotFolder(prefix)}*`),
    }),
  );
  for (const prefix of resources.ownedPrefixes) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resources.snapshotBucketArnExport}/${snapshotFolder(prefix)}*]`,
      reason:
        "Snapshot files are deleted (by retention, or by DELETE /checkpoints/{id}) under keys " +
        "only known from the catalog at run time; limited to the snapshot folders of the owned " +
        "prefixes.",
    });
  }
}

/**
 * The trash's writes, in one folder of each owned prefix: `trash/` (a deleted file copied in, a
 * purged or undeleted copy removed) or the snapshot folder (an undeleted file copied back). The
 * keys hold checkpoint ids, known only at run time.
 */
function grantOwnedFolders(
  fn: SimsnapFunction,
  resources: GrantableResources,
  folderOf: (prefix: string) => string,
  actions: string[],
): void {
  const bucketArn = Fn.importValue(resources.snapshotBucketArnExport);
  const folders = [...new Set(resources.ownedPrefixes.map(folderOf))];
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: folders.map((folder) => `${bucketArn}/${folder}*`) }),
  );
  for (const folder of folders) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resources.snapshotBucketArnExport}/${folder}*]`,
      reason:
        "Trashed snapshot files are copied to and from keys named by checkpoint ids at run " +
        "time; limited to the trash and snapshot folders of the prefixes simsnap owns.",
    });
  }
}

/**
 * Writing under one folder of the destination prefix: `reports/` (a prune's plan report, one key
 * per run) or `restore/` (an archived file copied back, where the restored simulation reads it).
 */
function grantSnapshotWrite(
  fn: SimsnapFunction,
  resources: GrantableResources,
  folder: "reports" | "restore",
  actions: string[],
): void {
  const bucketArn = Fn.importValue(resources.snapshotBucketArnExport);
  const path = `${ownedFolder(resources.snapshotPrefix)}${folder}/*`;
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: [`${bucketArn}/${path}`] }),
  );
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${resources.snapshotBucketArnExport}/${path}]`,
    reason:
      folder === "reports"
        ? "Plan reports are written under one key per run, named at run time."
        : "One copied-back file per restored checkpoint, under a key named at run time.",
  });
}

/**
 * Access to the checkpoints other tools write, under the files sources' prefixes and nowhere else
 * in their bucket (which may be the snapshot bucket, or one the tools already write to). Listing
 * is granted with an `s3:prefix` condition per source, so a listing of anything else is refused.
 * ListBucketMultipartUploads (an upload in progress keeps a checkpoint PENDING) takes no
 * `s3:prefix` condition in IAM, so it is granted on the bucket: it shows key names and upload
 * ids of uploads in progress, never an object's content.
 */
function grantFiles(
  fn: SimsnapFunction,
  access: FilesAccess,
  files: NonNullable<GrantableResources["files"]>,
): void {
  const objects = files.prefixes.map((prefix) => `${files.bucketArn}/${prefix}/*`);
  const actions = [
    ...(access.read ? ["s3:GetObject"] : []),
    ...(access.delete ? ["s3:DeleteObject"] : []),
    ...(access.write ? ["s3:PutObject", "s3:AbortMultipartUpload"] : []),
  ];
  if (access.read) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [files.bucketArn],
        conditions: {
          StringLike: { "s3:prefix": files.prefixes.flatMap((p) => [p, `${p}/*`]) },
        },
      }),
    );
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["s3:ListBucketMultipartUploads"],
        resources: [files.bucketArn],
      }),
    );
  }
  if (actions.length === 0) return;
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: objects }));
  for (const prefix of files.prefixes) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${files.nagName}/${prefix}/*]`,
      reason:
        "Checkpoints other tools write are found by listing at run time; limited to the " +
        "prefixes the files sources configure.",
    });
  }
}

/**
 * Access to archive copies anywhere in the archive bucket (`<simulation>/<yyyy>/<mm>/…`). Every
 * user may list the bucket, so that HEAD on a missing key is a 404, not a 403.
 */
function grantArchive(
  fn: SimsnapFunction,
  actions: readonly ArchiveAction[],
  resources: GrantableResources,
): void {
  const bucketArn = Fn.importValue(resources.archiveBucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucketArn] }),
  );
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...actions], resources: [`${bucketArn}/*`] }),
  );
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${resources.archiveBucketArnExport}/*]`,
    reason:
      "Archive keys are <simulation>/<yyyy>/<mm>/<file>, one per checkpoint, known only at run " +
      "time; the bucket holds nothing but archive copies and their manifests.",
  });
}
