import type { RetentionBaseStore } from "../ports/retention-bases.ts";
import type { FunctionName } from "../topology.ts";
import { needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const store = once((): RetentionBaseStore => {
  const settings = processSettings();
  // The SDK and the adapter are imported on the first call, not at every cold start.
  const load = once(async () => {
    const dynamodb = await import("../adapters/dynamodb/deferred.ts");
    return new dynamodb.DynamoDbRetentionBaseStore(
      dynamodb.documentClient(settings.AWS_REGION),
      settings.SIMSNAP_TABLE,
    );
  });
  return {
    get: async (scope, simulation) => (await load()).get(scope, simulation),
    put: async (base) => (await load()).put(base),
  };
});

/**
 * The retention share guard's bases in the catalog table (`RetentionBaseStore`), for a function
 * that plans retention: any catalog access reads them (a dry run shows the very refusal a real
 * run would make), recording one, as a run that removes does, needs `catalog: "write"`, as IAM
 * does in AWS.
 */
export function retentionBaseStore(name: FunctionName): RetentionBaseStore {
  const write = needsOf(name).catalog === "write";
  return restrict(store(), { get: true, put: write }, (method) =>
    undeclared(name, `retention bases.${method} (catalog: "write")`),
  );
}
