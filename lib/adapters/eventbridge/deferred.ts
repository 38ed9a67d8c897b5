import { EventBridgeClient } from "@aws-sdk/client-eventbridge";

// What the wiring imports with `import()` on the first publish: the client and the publisher on
// it, in one module. A named import lets the bundler keep the client alone, where importing the
// SDK package's namespace would keep every one of its commands.
export { EventBridgePublisher } from "./event-publisher.ts";

/** The EventBridge client the event publisher uses. */
export const eventBridgeClient = (region: string | undefined): EventBridgeClient =>
  new EventBridgeClient({ region });
