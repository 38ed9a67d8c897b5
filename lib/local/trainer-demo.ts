import type { S3Client } from "@aws-sdk/client-s3";
import { errorLine, trainerLine } from "./console-lines.ts";
import type { LocalStackConfig } from "./demo-config.ts";
import { startDemoTrainer, type DemoTrainer } from "./demo-trainer.ts";

/**
 * Starts the demo trainer of a local run (`config.trainer`, the config file's `local.trainer`),
 * printing each checkpoint it writes, whole or
 * half-written, so the console shows what discovery then catalogs. A failed write is printed and
 * the run goes on, as a real trainer's would. Undefined when the run has no trainer.
 */
export function startTrainerDemo(
  config: LocalStackConfig,
  s3: S3Client,
  print: (line: string) => void,
): DemoTrainer | undefined {
  if (config.trainer === undefined) return undefined;
  return startDemoTrainer({
    ...config.trainer,
    s3,
    onCheckpoint: (checkpoint) => print(trainerLine(checkpoint)),
    onError: (error) => print(errorLine(error)),
  });
}
