#!/usr/bin/env -S node --import tsx
import { exitQuietlyWhenPipeCloses, processIo } from "./io.ts";
import { runCli } from "./program.ts";

exitQuietlyWhenPipeCloses(process.stdout);
exitQuietlyWhenPipeCloses(process.stderr);
process.exitCode = await runCli(process.argv.slice(2), processIo);
