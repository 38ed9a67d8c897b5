import type { RetentionBase, RetentionScope } from "../../lib/domain/retention.ts";
import type { RetentionBaseStore } from "../../lib/ports/retention-bases.ts";

/**
 * A `RetentionBaseStore` in memory with the DynamoDB adapter's rules: the later run's base wins,
 * and one that approved nothing only fills an empty place.
 */
export class MemoryRetentionBaseStore implements RetentionBaseStore {
  readonly bases = new Map<string, RetentionBase>();

  async get(scope: RetentionScope, simulation: string): Promise<RetentionBase | undefined> {
    return this.bases.get(`${scope}#${simulation}`);
  }

  async put(base: RetentionBase): Promise<void> {
    const key = `${base.scope}#${base.simulation}`;
    const current = this.bases.get(key);
    const replaces = base.policy !== undefined && current !== undefined && current.at <= base.at;
    if (current === undefined || replaces) this.bases.set(key, base);
  }
}
