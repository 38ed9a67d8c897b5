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
