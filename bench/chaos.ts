/**
 * The chaos check: runs the local stack under provider faults and dropped S3 events, kills it
 * with SIGKILL and restarts it with `--keep-data`, plants files another tool might write, lets it
 * settle, then audits the catalog against the files (see docs/chaos.md). Progress goes to stderr;
 * stdout gets one JSON line, the report. Exit code 1 when any promise was broken, 2 on bad usage.
 * Usage: npm run chaos -- [--duration S] [--faults RATE] [--drop-events RATE] [--seed N]
 *          [--restarts N] [--settle S] [--snapshot-deadline S] [--no-restore-demo]
 *          [--config FILE] [--keep]
 */
import { parseArgs } from "node:util";
import { isAppError } from "../lib/domain/errors.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { ChaosOptionsSchema, runChaos } from "../lib/local/chaos-run.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

let options;
try {
  const { values } = parseArgs({
    options: {
      duration: { type: "string" },
      faults: { type: "string" },
      "drop-events": { type: "string" },
      seed: { type: "string" },
      restarts: { type: "string" },
      settle: { type: "string" },
      "snapshot-deadline": { type: "string" },
      "no-restore-demo": { type: "boolean" },
      config: { type: "string" },
      keep: { type: "boolean" },
    },
    strict: true,
  });
  const {
    "drop-events": dropEvents,
    "snapshot-deadline": snapshotDeadline,
    "no-restore-demo": noRestoreDemo,
    ...rest
  } = values;
  options = parseInput(
    ChaosOptionsSchema,
    { ...rest, dropEvents, snapshotDeadline, restoreDemo: !noRestoreDemo },
    "options",
  );
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(2);
}

try {
  const result = await runChaos(options, (line) => console.error(line));
  console.log(JSON.stringify(result));
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`error: ${isAppError(error) ? error.message : ((error as Error).stack ?? error)}`);
  process.exitCode = 2;
}
