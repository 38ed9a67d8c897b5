import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** Any AWS SDK v3 client: each has a middleware stack that takes the counter. */
interface SdkClient {
  middlewareStack: { add: (...args: never[]) => void };
}

/**
 * Counts every request `client` sends, retries included, in `requests` under
 * "<service> <Operation>" (e.g. "DynamoDB BatchGetItem"): benches report request counts, not
 * just times, and a middleware on the real SDK client counts what AWS would bill.
 */
export function countRequests<C extends SdkClient>(
  requests: Map<string, number>,
  service: string,
  client: C,
): C {
  (client.middlewareStack as unknown as DynamoDBClient["middlewareStack"]).add(
    (next, context) => (args) => {
      const name = `${service} ${String(context.commandName).replace(/Command$/, "")}`;
      requests.set(name, (requests.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  return client;
}
