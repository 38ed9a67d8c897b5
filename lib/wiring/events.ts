import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { EventBridgePublisher } from "../adapters/eventbridge/event-publisher.ts";
import type { EventPublisher } from "../ports/messaging.ts";
import type { FunctionName } from "../topology.ts";
import { needsOf, once, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const publisher = once(() => {
  const settings = processSettings();
  return new EventBridgePublisher(
    new EventBridgeClient({ region: settings.AWS_REGION }),
    settings.SIMSNAP_EVENT_BUS,
  );
});

/** The simsnap bus (`SIMSNAP_EVENT_BUS`), for a function that declares `events`. */
export function eventPublisher(name: FunctionName): EventPublisher {
  if (!needsOf(name).events) throw undeclared(name, "the simsnap event bus");
  return publisher();
}
