import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the stub received it. */
export interface StubRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when empty. */
  body: unknown;
}

/** What the stub answers: a JSON body (or raw text), a status and headers. */
export interface StubResponse {
  status?: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts); the connection is dropped on close. */
  hang?: boolean;
}

/** A loopback HTTP server answering with `handler`, recording every request. */
export interface HttpStub {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

/**
 * A tiny scripted HTTP server on loopback, for the parts of an HTTP client (paging, error
 * mapping, headers) a real protocol server would not let a test provoke on demand.
 */
export async function startHttpStub(
  handler: (request: StubRequest) => StubResponse,
): Promise<HttpStub> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const request: StubRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: text === "" ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(request);
      const answer = handler(request);
      if (answer.hang) return;
      const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? "");
      res.writeHead(answer.status ?? 200, {
        ...(answer.json !== undefined ? { "content-type": "application/json" } : {}),
        ...answer.headers,
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
