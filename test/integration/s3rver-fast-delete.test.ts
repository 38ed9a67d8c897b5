import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjects } from "../support/catalog-seed.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws({ buckets: ["deletes"] });
});
afterAll(() => aws?.close());

const folder = (...parts: string[]) => join(aws.servers.s3.directory, "deletes", ...parts);
const keysUnder = async (prefix: string): Promise<string[]> =>
  (
    await aws.s3.send(new ListObjectsV2Command({ Bucket: "deletes", Prefix: prefix }))
  ).Contents?.map((o) => o.Key ?? "") ?? [];

describe("s3rver deleting without listing the folder", () => {
  it("deletes 1,000 keys of one folder in one DeleteObjects, removing the folder once empty", async () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `sim/snapshot/sim-${i}.zip`);
    await putObjects(
      aws.s3,
      [...keys, "sim/other/keep.zip"].map((key) => ({ bucket: "deletes", key })),
      "x",
    );

    const result = await aws.s3.send(
      new DeleteObjectsCommand({
        Bucket: "deletes",
        Delete: { Objects: keys.map((Key) => ({ Key })) },
      }),
    );

    expect(result.Deleted).toHaveLength(1_000);
    expect(result.Errors ?? []).toEqual([]);
    expect(await keysUnder("sim/")).toEqual(["sim/other/keep.zip"]);
    expect(existsSync(folder("sim", "snapshot"))).toBe(false);
    expect(existsSync(folder("sim", "other"))).toBe(true);
  });

  it("removes every folder left empty on the way up, and none that still holds something", async () => {
    await putObjects(
      aws.s3,
      ["a/b/c/one.zip", "a/b/c/two.zip", "a/x.zip"].map((key) => ({ bucket: "deletes", key })),
      "x",
    );

    await aws.s3.send(new DeleteObjectCommand({ Bucket: "deletes", Key: "a/b/c/one.zip" }));
    expect(existsSync(folder("a", "b", "c"))).toBe(true);
    await aws.s3.send(new DeleteObjectCommand({ Bucket: "deletes", Key: "a/b/c/two.zip" }));
    expect(existsSync(folder("a", "b"))).toBe(false);
    expect(existsSync(folder("a"))).toBe(true);
    await aws.s3.send(new DeleteObjectCommand({ Bucket: "deletes", Key: "a/x.zip" }));
    expect(existsSync(folder("a"))).toBe(false);
    expect(existsSync(folder())).toBe(true);
    expect(await keysUnder("a/")).toEqual([]);
  });
});
