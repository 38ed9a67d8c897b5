/**
 * DeleteObjects on the local S3 server (s3rver), as a prune sends it: keys of one snapshot folder,
 * 1,000 a request, one request after another. It prints the time per 1,000 keys for folders of
 * growing size, with s3rver as shipped (`stock`: it lists the whole folder after every deleted
 * key, so the time per key grows with the folder) and with simsnap's override
 * (`deleteWithoutListing`, what the local stack runs), whose time per 1,000 should stay flat.
 * Prints figures; asserts nothing.
 * Usage: npm run bench:s3-delete -- [sizes, default 1000,10000] [stock sizes, default the same]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { CreateBucketCommand, DeleteObjectsCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { deleteWithoutListing } from "../lib/local/s3rver-fast-delete.ts";
import { putObjects } from "../test/support/catalog-seed.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const sizes = (process.argv[2] ?? "1000,10000").split(",").map(Number);
const stockSizes = (process.argv[3] ?? process.argv[2] ?? "1000,10000").split(",").map(Number);

async function measure(variant: "stock" | "override", size: number): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "simsnap-s3-delete-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true });
  if (variant === "override") deleteWithoutListing(server);
  const { port } = (await server.run()) as AddressInfo;
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "snapshots" }));
    const keys = Array.from(
      { length: size },
      (_, i) => `simsnap/snapshot/sim-${String(i).padStart(6, "0")}.zip`,
    );
    await putObjects(
      s3,
      keys.map((key) => ({ bucket: "snapshots", key })),
      "x",
    );
    const perRequest: number[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const start = performance.now();
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: "snapshots",
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      perRequest.push(performance.now() - start);
    }
    const total = perRequest.reduce((a, b) => a + b, 0);
    console.log(
      `${variant.padEnd(9)} ${size.toLocaleString("en").padStart(7)} keys  ` +
        `${String(perRequest.length).padStart(3)} requests  ` +
        `${(total / perRequest.length).toFixed(0).padStart(6)} ms per 1,000  ` +
        `(first ${perRequest[0]?.toFixed(0)} ms, last ${perRequest.at(-1)?.toFixed(0)} ms)`,
    );
  } finally {
    s3.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

console.log("s3 delete bench: DeleteObjects of one folder's keys on s3rver, 1,000 a request");
for (const size of sizes) await measure("override", size);
for (const size of stockSizes) await measure("stock", size);
