// The shapes the public HTTP API answers with (docs/http-api.md): the typed client's own, so the
// console and the client cannot drift apart (a type test holds the client to the server's types).
// Type-only: esbuild erases these imports, and the console bundle takes no client code.

export type {
  Checkpoint,
  CheckpointState,
  Job,
  JobStatus,
  JobStep,
  Page,
  PrunePlan as RetentionPlan,
  SimulationOverview as Simulation,
} from "../../packages/client/src/types.ts";
