/** Where a command writes; injected so tests read what a user would see. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * `simsnap … | head -1`: once the reader is gone, writing more fails with EPIPE. That is the
 * reader's choice, not a failure of the command, so the process ends quietly (exit code 0) instead
 * of dying with a stack trace.
 */
export function exitQuietlyWhenPipeCloses(
  stream: NodeJS.WritableStream,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") exit(0);
    else throw error;
  });
}
