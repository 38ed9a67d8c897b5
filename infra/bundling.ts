import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Metafile } from "esbuild";
import { splitBundleCommand } from "./simsnap-function.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs the very command that bundles a function in the stack (`splitBundleCommand`, the
 * functions' `afterBundling` hook) for `entry` (relative to the repository root) into `outdir`,
 * and returns esbuild's metafile, whose paths are relative to the repository root: so
 * bench/bundle.ts measures, and the tests check, what Lambda runs.
 */
export async function splitBundle(entry: string, outdir: string): Promise<Metafile> {
  const metafilePath = join(outdir, "meta.json");
  const [command = "", ...args] = splitBundleCommand(entry, outdir);
  await run(command, [...args, `--metafile=${metafilePath}`], { cwd: repoRoot });
  const metafile = JSON.parse(await readFile(metafilePath, "utf8")) as Metafile;
  await rm(metafilePath);
  return metafile;
}
