import type { MiddlewareObj } from "@middy/core";
import type * as z from "zod";
import { parseInput } from "../domain/validation.ts";

/**
 * A middy middleware that replaces `request.event` with its parse by `schema` before the handler
 * runs, so a directly invoked or HTTP handler only ever sees validated input, and a bad event
 * fails at the edge with the app's `ValidationError` naming every field (not a `TypeError` deep
 * in a use case). `what` names the input in that error, e.g. "schedule tick". The handler after
 * it declares `z.output<S>` as its event; the middleware leaves the chain's event type as it is.
 */
export function parseEvent<S extends z.ZodType>(schema: S, what: string): MiddlewareObj {
  return {
    name: "parseEvent",
    before: (request) => {
      request.event = parseInput(schema, request.event, what);
    },
  };
}
