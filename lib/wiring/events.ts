import type { EventPublisher } from "../ports/messaging.ts";
import type { FunctionName } from "../topology.ts";
import { deferred, needsOf, once, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const publisher = once(() => {
  const settings = processSettings();
  const bus = settings.SIMSNAP_EVENT_BUS;
  // The SDK is imported on the first publish (see `deferred`): most invocations publish nothing.
  const load = once(async () => {
    const eventbridge = await import("../adapters/eventbridge/deferred.ts");
    return new eventbridge.EventBridgePublisher(
      eventbridge.eventBridgeClient(settings.AWS_REGION),
      bus,
    );
  });
  return deferred<EventPublisher>(load, { publish: "call" });
});

/** The simsnap bus (`SIMSNAP_EVENT_BUS`), for a function that declares `events`. */
export function eventPublisher(name: FunctionName): EventPublisher {
  if (!needsOf(name).events) throw undeclared(name, "the simsnap event bus");
  return publisher();
}
