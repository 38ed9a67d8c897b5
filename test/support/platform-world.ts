import { EVENT_DETAIL_SCHEMAS } from "../../lib/domain/event-schemas.ts";
import type { DomainEvent } from "../../lib/domain/events.ts";
import type { StopRequestedEvent } from "../../lib/domain/messages.ts";
import { directoryOf, type SimulationStatus } from "../../lib/ports/simulation-provider.ts";
import { apiWorld } from "./api-world.ts";
import { FakePlatformProvider } from "./fake-platform-provider.ts";
import { MemoryQueue } from "./memory.ts";

/**
 * The API's in-memory world with two platforms in its directory: the SimSpace Weaver-like
 * `FakeProvider` (`sim-a`, snapshots in S3) and the Air-like `FakePlatformProvider` (`air-sim`,
 * checkpoints held by the platform), on one clock.
 */
export function platformWorld(
  simulations: Record<string, SimulationStatus> = { "air-sim": "STARTED" },
) {
  const world = apiWorld({ "sim-a": "STARTED" });
  const platform = new FakePlatformProvider(world.clock, simulations);
  return {
    ...world,
    platform,
    providers: directoryOf([world.provider, platform]),
    // What a `cycle` schedule sends request-stop (plan-snapshots' stop-requests queue).
    stops: new MemoryQueue<StopRequestedEvent>(),
  };
}
/** The world `platformWorld` builds. */
export type PlatformWorld = ReturnType<typeof platformWorld>;

/** Every published event's detail matches its documented schema. */
export function documented(events: readonly DomainEvent[]): void {
  for (const event of events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS];
    if (!schema) throw new Error(`Undocumented event ${event.detailType}`);
    schema.parse(event.detail);
  }
}
