import type { RetentionBase, RetentionScope } from "../domain/retention.ts";

/**
 * Where the retention share guard remembers each simulation's last approved run (`RetentionBase`,
 * one per simulation and scope), so that a run after a backlog can tell the policy's steady state
 * from a mistake instead of refusing both. One small record per simulation, never a list of ids.
 */
export interface RetentionBaseStore {
  /**
   * The base of `simulation` in `scope`; undefined when none was recorded, or when the stored one
   * no longer reads as a base (the guard then counts every removal, the cautious side).
   */
  get(scope: RetentionScope, simulation: string): Promise<RetentionBase | undefined>;
  /**
   * Records `base` unless the base of a later run (`at`) is already there, so a run delivered late
   * or twice never moves a simulation's base back; a base that approved nothing (no `policy`: a
   * refused first run) only where there is none yet, so it never replaces an approval.
   */
  put(base: RetentionBase): Promise<void>;
}
