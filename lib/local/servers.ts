import crypto from "node:crypto";
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { join } from "node:path";
import dynalite from "dynalite";
import { createSqsServer } from "local-aws-sqs";
import S3rver from "s3rver";
import { supportListMultipartUploads } from "./s3rver-list-uploads.ts";
import { SendWakeups } from "./queue-poller.ts";
import { deleteWithoutListing } from "./s3rver-fast-delete.ts";
import { supportUploadPartCopy } from "./s3rver-upload-part-copy.ts";

/**
 * s3rver encrypts listing continuation tokens with single DES, which OpenSSL 3 only has in its
 * legacy provider. DES-EDE with the key repeated is exactly single DES, and is in the default
 * provider, so the mapping keeps paginated listings working without `--openssl-legacy-provider`.
 */
function patchLegacyDes(): void {
  const marker = Symbol.for("simsnap.desPatched");
  const target = crypto as unknown as Record<symbol, boolean>;
  if (target[marker]) return;
  target[marker] = true;
  const mapDes = <F extends (algorithm: string, key: Buffer, iv: Buffer) => unknown>(
    original: F,
  ): F =>
    ((algorithm: string, key: Buffer, iv: Buffer) =>
      algorithm === "des"
        ? original("des-ede-cbc", Buffer.concat([key, key]), iv)
        : original(algorithm, key, iv)) as F;
  crypto.createCipheriv = mapDes(crypto.createCipheriv.bind(crypto) as never);
  crypto.createDecipheriv = mapDes(crypto.createDecipheriv.bind(crypto) as never);
}

/** The embedded AWS look-alikes and how to reach them. */
export interface LocalServers {
  s3: { endpoint: string; server: S3rver; directory: string };
  dynamodb: { endpoint: string };
  /** `sends` wakes the local queue pollers whenever a message was sent (see `SendWakeups`). */
  sqs: { endpoint: string; sends: SendWakeups };
  close(): Promise<void>;
}

/** Options for `startLocalServers`; ports default to 0 (any free port). */
export interface LocalServerOptions {
  dataDir: string;
  host?: string;
  s3Port?: number;
  dynamodbPort?: number;
  sqsPort?: number;
  /** Keep DynamoDB in memory instead of LevelDB files under `dataDir`. */
  dynamodbInMemory?: boolean;
}

const endpointOf = (server: Server, host: string): string =>
  `http://${host}:${(server.address() as AddressInfo).port}`;

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });

/**
 * Stops listening and drops every connection, idle or in the middle of a request: a client
 * holding a keep-alive connection (or one stuck sending a body) must not keep `npm start` from
 * ending, and the local stack has no request worth finishing once it stops.
 */
const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/**
 * A request cut off by a dropped connection (the client went away, or `closeServer` dropped it)
 * emits an "aborted" error. dynalite rethrows every request error from its listener, which would
 * be an uncaught exception that kills the process at the very moment it stops cleanly; a request
 * nobody is left to answer is no error, so that one event is not passed on.
 */
function tolerateAbortedRequests(server: Server): void {
  server.prependListener("request", (request: IncomingMessage) => {
    const emit = request.emit.bind(request) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    request.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === "error" && (args[0] as NodeJS.ErrnoException | undefined)?.code === "ECONNRESET"
        ? false
        : emit(event, ...args)) as IncomingMessage["emit"];
  });
}

/**
 * Starts s3rver, dynalite and local-aws-sqs on loopback so the real AWS SDK clients can run
 * against them: the local runtime and the integration tests share this one start-up.
 */
export async function startLocalServers(options: LocalServerOptions): Promise<LocalServers> {
  patchLegacyDes();
  const host = options.host ?? "127.0.0.1";
  const s3Directory = join(options.dataDir, "s3");
  mkdirSync(s3Directory, { recursive: true });

  const s3 = new S3rver({
    address: host,
    port: options.s3Port ?? 0,
    directory: s3Directory,
    silent: true,
    allowMismatchedSignatures: true,
  });
  supportUploadPartCopy(s3);
  deleteWithoutListing(s3);
  supportListMultipartUploads(s3);
  const s3Address = (await s3.run()) as AddressInfo;
  // s3rver's own close() waits for every open connection; its server is closed here instead.
  const s3Server = (s3 as unknown as { httpServer: Server }).httpServer;
  tolerateAbortedRequests(s3Server);

  let dynamoPath: string | undefined;
  if (!options.dynamodbInMemory) {
    dynamoPath = join(options.dataDir, "dynamodb");
    mkdirSync(dynamoPath, { recursive: true });
  }
  const dynamo = dynalite({
    path: dynamoPath,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  tolerateAbortedRequests(dynamo);
  await listen(dynamo, options.dynamodbPort ?? 0, host);

  const sqs = await createSqsServer({
    port: options.sqsPort ?? 0,
    hostname: host,
    emulateQueueCreationLifecycle: false,
  });
  tolerateAbortedRequests(sqs);

  const sends = new SendWakeups();
  sqs.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers["x-amz-target"];
    if (target === "AmazonSQS.SendMessage" || target === "AmazonSQS.SendMessageBatch") {
      response.once("finish", () => sends.notify());
    }
  });

  const s3Endpoint = `http://${host}:${s3Address.port}`;
  return {
    s3: { endpoint: s3Endpoint, server: s3, directory: s3Directory },
    dynamodb: { endpoint: endpointOf(dynamo, host) },
    sqs: { endpoint: endpointOf(sqs, host), sends },
    async close() {
      await Promise.all([closeServer(s3Server), closeServer(dynamo), closeServer(sqs)]);
    },
  };
}
