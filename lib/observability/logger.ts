import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one structured JSON logger. Handlers append the correlation keys of the record they work on
 * (simulation, checkpoint, job) so every line of one piece of work can be found together.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "simsnap" });
