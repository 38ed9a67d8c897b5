import { describe, expectTypeOf, it } from "vitest";
import type * as Client from "../../../packages/client/src/index.ts";
import type {
  Checkpoint,
  CheckpointState,
  CheckpointTrigger,
} from "../../../lib/domain/checkpoint.ts";
import type { CheckpointOrderField } from "../../../lib/domain/checkpoint-query.ts";
import type { JobKind, JobStatus } from "../../../lib/domain/job.ts";
import type { RetentionPlan } from "../../../lib/domain/retention.ts";
import type { JobView } from "../../../lib/http/views.ts";
import type { SimulationStatus } from "../../../lib/ports/simulation-provider.ts";
import type { SimulationOverview } from "../../../lib/usecases/catalog/list-simulations.ts";

// The client package spells the API's JSON out as plain types so that it needs neither zod nor
// any server module. These assertions are checked by `tsc` (npm run typecheck), not at run time:
// a field added to, removed from or retyped in the server's types fails the type-check until the
// client's types say the same.
describe("the client's types", () => {
  it("are the server's types of what the API sends", () => {
    expectTypeOf<Client.Checkpoint>().toEqualTypeOf<Checkpoint>();
    expectTypeOf<Client.CheckpointState>().toEqualTypeOf<CheckpointState>();
    expectTypeOf<Client.CheckpointTrigger>().toEqualTypeOf<CheckpointTrigger>();
    expectTypeOf<Client.CheckpointOrderField>().toEqualTypeOf<CheckpointOrderField>();
    expectTypeOf<Client.Job>().toEqualTypeOf<JobView>();
    expectTypeOf<Client.JobKind>().toEqualTypeOf<JobKind>();
    expectTypeOf<Client.JobStatus>().toEqualTypeOf<JobStatus>();
    expectTypeOf<Client.PrunePlan>().toEqualTypeOf<RetentionPlan>();
    expectTypeOf<Client.SimulationOverview>().toEqualTypeOf<SimulationOverview>();
    expectTypeOf<Client.SimulationStatus>().toEqualTypeOf<SimulationStatus>();
  });
});
