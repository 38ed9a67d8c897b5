import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
const bucket = "training";

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [bucket] });
});

afterAll(async () => {
  await aws?.close();
});

describe("S3ObjectStore.getText on s3rver", () => {
  it("reads a small object's text, multi-byte characters included", async () => {
    const store = new S3ObjectStore(aws.s3);
    const location = { bucket, key: "runs/exp7/checkpoint-12/trainer_state.json" };
    const body = JSON.stringify({ log_history: [{ eval_loss: 0.5, note: "π ≈ 3.14 🙂" }] });
    await store.put(location, body);

    expect(await store.getText(location, 1024)).toBe(body);
    expect(await store.getText(location, Buffer.byteLength(body))).toBe(body);
  });

  it("returns undefined for an object over the cap, leaving its body unread", async () => {
    const store = new S3ObjectStore(aws.s3);
    const location = { bucket, key: "runs/exp7/checkpoint-12/big.json" };
    await store.put(location, "x".repeat(10_000));

    expect(await store.getText(location, 9_999)).toBeUndefined();
    expect(await store.getText(location, 10_000)).toHaveLength(10_000);
  });

  it("reads an empty object as empty text, and a missing one as undefined", async () => {
    const store = new S3ObjectStore(aws.s3);
    await store.put({ bucket, key: "runs/exp7/checkpoint-12/empty.json" }, new Uint8Array(0));

    expect(await store.getText({ bucket, key: "runs/exp7/checkpoint-12/empty.json" }, 100)).toBe(
      "",
    );
    expect(await store.getText({ bucket, key: "runs/exp7/none.json" }, 100)).toBeUndefined();
  });

  it("refuses a cap that is not a whole number of bytes", async () => {
    const store = new S3ObjectStore(aws.s3);
    await expect(store.getText({ bucket, key: "a" }, -1)).rejects.toThrow(/cap/);
  });
});
