import type { VerificationStep } from "../../domain/verification.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../ports/messaging.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import type { UserCheck } from "../../ports/user-check.ts";

/** How verification jobs wait and whom their throwaway simulations run as. */
export interface VerificationSettings {
  /** Role a throwaway started from a file runs with (StartSimulation's RoleArn). */
  roleArn?: string;
  /** First wait between checks of a throwaway's status, doubling up to `maxCheckSeconds`. */
  firstCheckSeconds: number;
  maxCheckSeconds: number;
  /** How long the user check may run (config `verification.check.timeoutSeconds`). */
  userCheckTimeoutSeconds: number;
}

/**
 * What a verification job's steps need: the catalog, the providers (a checkpoint is restored by
 * the one it names), the step queue, the bus, and the optional user check.
 */
export interface VerificationDeps {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  providers: ProviderDirectory;
  steps: MessageQueue<VerificationStep>;
  events: EventPublisher;
  clock: Clock;
  userCheck?: UserCheck;
  verification: VerificationSettings;
}

/**
 * What ending a verification needs without calling any provider: the sweeper ends one whose
 * cleanup outlived its deadline, and records its verdict, through this alone.
 */
export type VerificationRecordDeps = Pick<
  VerificationDeps,
  "checkpoints" | "jobs" | "events" | "clock"
>;
