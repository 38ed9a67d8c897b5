import crypto from "node:crypto";
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { join } from "node:path";
import dynalite from "dynalite";
import { createSqsServer } from "local-aws-sqs";
import S3rver from "s3rver";
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
  sqs: { endpoint: string };
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

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

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
  const s3Address = (await s3.run()) as AddressInfo;

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
  await listen(dynamo, options.dynamodbPort ?? 0, host);

  const sqs = await createSqsServer({
    port: options.sqsPort ?? 0,
    hostname: host,
    emulateQueueCreationLifecycle: false,
  });

  const s3Endpoint = `http://${host}:${s3Address.port}`;
  return {
    s3: { endpoint: s3Endpoint, server: s3, directory: s3Directory },
    dynamodb: { endpoint: endpointOf(dynamo, host) },
    sqs: { endpoint: endpointOf(sqs, host) },
    async close() {
      await Promise.all([s3.close(), closeServer(dynamo), closeServer(sqs)]);
    },
  };
}
