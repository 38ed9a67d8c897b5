import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { SimulationApiCallEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordShutdownObserved } from "../lib/observability/metrics.ts";
import { observeShutdown, shutdownFromApiCall } from "../lib/usecases/observe-shutdown.ts";

const adapters = createAdapters(loadSettings());

/** SQS consumer of the simulation-shutdowns queue, fed by CloudTrail's StopSimulation/DeleteSimulation. */
export const handler = sqsBatchHandler({
  what: "CloudTrail StopSimulation/DeleteSimulation event",
  schema: SimulationApiCallEventSchema,
  correlate: (event) => ({
    simulation: event.detail.requestParameters.simulation,
    call: event.detail.eventName,
  }),
  redelivery: adapters.redelivery,
  handle: (event) =>
    observeShutdown(shutdownFromApiCall(event), adapters).then(recordShutdownObserved),
});
