/**
 * The `bind…` helpers give a function a resource the way its code expects to find it: the
 * environment variable `lib/config.ts` reads and the permissions its adapter's calls need, in one
 * call, so a function can never get the name without the grant or the grant without the name.
 */
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IEventBus } from "aws-cdk-lib/aws-events";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { catalogTable } from "../lib/adapters/dynamodb/table-schema.ts";
import { queueUrlEnv, type QueueName } from "../lib/topology.ts";
import type { SimsnapFunction } from "./simsnap-function.ts";

/**
 * The catalog operations the DynamoDB stores send (conditional puts, gets, queries; a test reads
 * them from `lib/adapters/dynamodb/`); `Scan` only on request, every other access goes by key or
 * index.
 */
export const CATALOG_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"];

/**
 * The catalog table (`SIMSNAP_TABLE`) with the stores' operations on the table and `Query` on its
 * indexes. `scan` adds `Scan` on the table itself, for the one listing that has no key to go by
 * (`GET /jobs` across simulations); `scanOpenJobs` adds `Scan` on the sparse `openJobs` index
 * alone, which holds RUNNING jobs only (the sweeper's listing across simulations).
 */
export function bindTable(
  fn: SimsnapFunction,
  table: ITable,
  options: { scan?: boolean; scanOpenJobs?: boolean } = {},
) {
  fn.function.addEnvironment("SIMSNAP_TABLE", table.tableName);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: options.scan ? [...CATALOG_ACTIONS, "dynamodb:Scan"] : CATALOG_ACTIONS,
      resources: [table.tableArn],
    }),
  );
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["dynamodb:Query"],
      resources: Object.values(catalogTable.indexes).map(
        (index) => `${table.tableArn}/index/${index.name}`,
      ),
    }),
  );
  if (options.scanOpenJobs) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["dynamodb:Scan"],
        resources: [`${table.tableArn}/index/${catalogTable.indexes.openJobs.name}`],
      }),
    );
  }
}

/** The simsnap event bus (`SIMSNAP_EVENT_BUS`), with `events:PutEvents` on it alone. */
export function bindEventBus(fn: SimsnapFunction, bus: IEventBus): void {
  fn.function.addEnvironment("SIMSNAP_EVENT_BUS", bus.eventBusName);
  bus.grantPutEventsTo(fn.role);
}

/** A queue the function sends to (`SIMSNAP_QUEUE_<NAME>_URL`), with send rights on it alone. */
export function bindQueue(fn: SimsnapFunction, name: QueueName, queue: IQueue): void {
  fn.function.addEnvironment(queueUrlEnv(name), queue.queueUrl);
  queue.grantSendMessages(fn.role);
}
