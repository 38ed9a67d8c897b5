import type { S3Location } from "../domain/checkpoint.ts";
import type { VerificationStatus } from "../domain/checkpoint.ts";

/**
 * What a user check is told about the restore test it judges: which checkpoint, restored into
 * which throwaway simulation on which provider, from which file. The check knows the
 * application: it can ask the simulation's own endpoints what state it resumed at.
 */
export interface UserCheckInput {
  jobId: string;
  checkpointId: string;
  /** The simulation the checkpoint was taken of. */
  simulation: string;
  provider: string;
  /** The throwaway simulation, running, that the check may inspect (and must not stop). */
  throwaway: string;
  snapshot?: S3Location;
  platformId?: string;
}

/** A user check's answer; `detail` is recorded on the checkpoint as the reason. */
export interface UserCheckResult {
  status: VerificationStatus;
  detail: string;
}

/**
 * The optional last step of a restore test, as AWS Backup's restore validation: the operator's
 * own code says whether the restored simulation is right. Implementations bound it by
 * `timeoutMs` and answer FAILED (never throw) when the check fails, times out or cannot run, so
 * the throwaway simulation is cleaned up whatever the check did; only an error the check never
 * saw (e.g. throttling before it ran) is thrown, for the step to be tried again.
 */
export interface UserCheck {
  /** What runs, for the verdict's detail (`Lambda arn:…`, `command ./check.sh`). */
  readonly description: string;
  run(input: UserCheckInput, timeoutMs: number): Promise<UserCheckResult>;
}
