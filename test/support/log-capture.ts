/** One structured log line, as Powertools writes it. */
export type LogLine = Record<string, unknown>;

/** What `captureLogs` gives back. */
export interface LogCapture {
  /** The JSON lines written to standard output and standard error since the capture began. */
  lines(): LogLine[];
  /** Puts the streams back; call it in `finally` or `afterEach`. */
  restore(): void;
}

/**
 * Captures what is written to standard output and standard error, and hides it. Powertools'
 * logger writes through a `Console` of its own over `process.stdout`, which calls the stream's
 * `write` directly: replacing `write` catches it where `vi.spyOn` does not.
 */
export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  return {
    lines: () =>
      chunks
        .flatMap((chunk) => chunk.split("\n"))
        .map((line) => line.trim())
        .filter((line) => line.startsWith("{"))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as LogLine];
          } catch {
            return [];
          }
        }),
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = originals[i]!;
      });
    },
  };
}
