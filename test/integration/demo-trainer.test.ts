import { GetObjectCommand, ListObjectsV2Command, S3Client, type _Object } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideCommit } from "../../lib/domain/file-commit.ts";
import {
  classifyKey,
  compileFileSource,
  FileSourceConfigSchema,
  groupCheckpoints,
  readMetrics,
} from "../../lib/domain/file-source.ts";
import {
  startDemoTrainer,
  type DemoCheckpoint,
  type DemoTrainer,
} from "../../lib/local/demo-trainer.ts";
import { sleep } from "../support/async.ts";
import { LOCAL_CREDENTIALS, startLocalAws, type LocalAws } from "../support/local-aws.ts";

const BUCKET = "training";
const MARKER = "trainer_state.json";

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET] });
});
afterAll(async () => aws?.close());

/** A client of its own, recording the key of each PutObject as it starts and as it ends. */
function recordingClient() {
  const s3 = new S3Client({
    endpoint: aws.servers.s3.endpoint,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  const started: string[] = [];
  const finished: string[] = [];
  const onStart: ((key: string) => void)[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? "";
      if (context.commandName === "PutObjectCommand") {
        started.push(key);
        for (const listener of onStart) listener(key);
      }
      const result = await next(args);
      if (context.commandName === "PutObjectCommand") finished.push(key);
      return result;
    },
    { step: "initialize", name: "recordPuts" },
  );
  return { s3, started, finished, onStart };
}

/** Runs a trainer until it has written `count` checkpoints, stopping it from the callback. */
async function runUntil(
  options: { s3: S3Client; prefix: string; seed: number; halfWrittenRate: number },
  count: number,
): Promise<DemoCheckpoint[]> {
  let trainer: DemoTrainer | undefined;
  const stopped = new Promise<void>((resolve, reject) => {
    trainer = startDemoTrainer({
      run: "exp7",
      bucket: BUCKET,
      everyMs: 5,
      ...options,
      onCheckpoint: () => {
        // Stopping here, before the next one is scheduled, makes the count exact.
        if (trainer !== undefined && trainer.written().length === count) {
          trainer.stop().then(resolve, reject);
        }
      },
    });
  });
  await stopped;
  return trainer?.written() ?? [];
}

async function list(prefix: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await aws.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return objects;
}

async function read(key: string): Promise<string> {
  const object = await aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await object.Body?.transformToString()) ?? "";
}

const sourceOf = (prefix: string) =>
  compileFileSource(FileSourceConfigSchema.parse({ prefix, preset: "huggingface" }));

describe("demo trainer", () => {
  it("writes Hugging Face checkpoints the huggingface preset reads back, marker last", async () => {
    const { s3, finished } = recordingClient();
    const prefix = "layout/runs";
    const written = await runUntil({ s3, prefix, seed: 7, halfWrittenRate: 0.3 }, 12);
    s3.destroy();

    expect(written.map((c) => c.step)).toEqual(written.map((_, i) => (i + 1) * 100));
    expect(written.some((c) => c.complete)).toBe(true);
    expect(written.some((c) => !c.complete)).toBe(true);

    const source = sourceOf(prefix);
    const objects = await list(prefix);
    // Every object belongs to a checkpoint of the preset's layout, with the fields written.
    for (const object of objects) {
      const match = classifyKey(source, object.Key ?? "");
      expect(match, object.Key).toBeDefined();
      expect(match?.fields.run).toBe("exp7");
    }
    const groups = groupCheckpoints(
      source,
      objects.map((o) => ({
        key: o.Key ?? "",
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
      })),
    );
    const byKey = new Map(groups.map((g) => [g.key, g]));
    const later = new Date(Date.now() + 3_600_000);
    for (const checkpoint of written) {
      const group = byKey.get(checkpoint.key);
      expect(group?.fields.step).toBe(checkpoint.step);
      const names = group?.objects.map((o) => o.relativePath) ?? [];
      expect(names.includes(MARKER)).toBe(checkpoint.complete);
      // Discovery's own verdict, long after the writes: COMPLETE exactly when the marker landed.
      const verdict = decideCommit(source.commit, { objects: group?.objects ?? [] }, later);
      expect(verdict.state).toBe(checkpoint.complete ? "COMPLETE" : "PENDING");
      if (checkpoint.complete) {
        expect(names).toHaveLength(7);
        // The marker is the last PutObject of its checkpoint to complete...
        const puts = finished.filter((key) => key.startsWith(checkpoint.key));
        expect(puts.at(-1)).toBe(checkpoint.key + MARKER);
        expect(puts).toHaveLength(7);
        // ...and no object of the checkpoint is newer than it.
        const markerTime = group?.objects.find((o) => o.relativePath === MARKER)?.lastModified;
        for (const object of group?.objects ?? []) {
          expect(object.lastModified.getTime()).toBeLessThanOrEqual(markerTime?.getTime() ?? 0);
        }
        // The preset's metric reads the loss back from the sidecar.
        const state = await read(checkpoint.key + MARKER);
        expect(readMetrics(source, new Map([[MARKER, state]]))).toEqual({
          eval_loss: checkpoint.loss,
        });
        const parsed = JSON.parse(state) as Record<string, unknown>;
        expect(parsed.global_step).toBe(checkpoint.step);
        expect(typeof parsed.best_metric).toBe("number");
        expect(parsed.epoch).toBe(checkpoint.step / 500);
      } else {
        expect(names.length).toBeGreaterThanOrEqual(1);
        expect(names.length).toBeLessThan(7);
      }
    }
  });

  it("gives the same checkpoints, bytes included, for the same seed", async () => {
    const { s3 } = recordingClient();
    const a = await runUntil({ s3, prefix: "seed/a", seed: 42, halfWrittenRate: 0.25 }, 8);
    const b = await runUntil({ s3, prefix: "seed/b", seed: 42, halfWrittenRate: 0.25 }, 8);
    const c = await runUntil({ s3, prefix: "seed/c", seed: 43, halfWrittenRate: 0.25 }, 8);
    s3.destroy();
    const strip = (cs: DemoCheckpoint[]) =>
      cs.map(({ step, complete, loss }) => [step, complete, loss]);
    expect(strip(a)).toEqual(strip(b));
    expect(strip(c)).not.toEqual(strip(a));
    // Same objects, same sizes, same contents (S3's ETag is the MD5 of a single-part object).
    const shape = async (prefix: string) =>
      (await list(prefix)).map((o) => [o.Key?.slice(prefix.length), o.Size, o.ETag]);
    expect(await shape("seed/b")).toEqual(await shape("seed/a"));
    // The losses fall, noisily: the last is lower than the first, yet some step is worse.
    const losses = a.map((cp) => cp.loss);
    expect(losses.at(-1)).toBeLessThan(losses[0] ?? 0);
    expect(losses.some((loss, i) => i > 0 && loss > (losses[i - 1] ?? 0))).toBe(true);
  });

  it("never writes a marker when every checkpoint crashes, and writes all markers at rate 0", async () => {
    const { s3 } = recordingClient();
    const crashed = await runUntil({ s3, prefix: "crash/all", seed: 1, halfWrittenRate: 1 }, 5);
    const whole = await runUntil({ s3, prefix: "crash/none", seed: 1, halfWrittenRate: 0 }, 5);
    s3.destroy();
    expect(crashed.every((cp) => !cp.complete)).toBe(true);
    expect((await list("crash/all")).some((o) => o.Key?.endsWith(MARKER))).toBe(false);
    expect(whole.every((cp) => cp.complete)).toBe(true);
    expect((await list("crash/none")).filter((o) => o.Key?.endsWith(MARKER))).toHaveLength(5);
  });

  it("stop() finishes the checkpoint being written and leaves no write in flight", async () => {
    const { s3, started, finished, onStart } = recordingClient();
    let stopping: Promise<void> | undefined;
    const trainer = startDemoTrainer({
      s3,
      bucket: BUCKET,
      prefix: "stop/runs",
      run: "exp7",
      everyMs: 5,
      halfWrittenRate: 0,
      seed: 3,
    });
    // Stop while the second checkpoint's third file is being uploaded.
    const stopped = new Promise<void>((resolve) => {
      onStart.push((key) => {
        if (stopping === undefined && key.endsWith("checkpoint-200/training_args.bin")) {
          stopping = trainer.stop();
          resolve();
        }
      });
    });
    await stopped;
    await stopping;
    expect(finished).toEqual(started);
    expect(trainer.written().map((cp) => [cp.step, cp.complete])).toEqual([
      [100, true],
      [200, true],
    ]);
    const count = started.length;
    await sleep(100);
    expect(started).toHaveLength(count);
    s3.destroy();
  });

  it("reports a failed write, leaves that checkpoint incomplete and goes on", async () => {
    const { s3 } = recordingClient();
    const errors: unknown[] = [];
    let trainer: DemoTrainer | undefined;
    await new Promise<void>((resolve, reject) => {
      trainer = startDemoTrainer({
        s3,
        bucket: "no-such-bucket",
        prefix: "runs",
        run: "exp7",
        everyMs: 5,
        halfWrittenRate: 0,
        seed: 1,
        onError: (error) => errors.push(error),
        onCheckpoint: () => {
          if (trainer?.written().length === 2) trainer.stop().then(resolve, reject);
        },
      });
    });
    expect(errors).toHaveLength(2);
    expect(trainer?.written().map((cp) => cp.complete)).toEqual([false, false]);

    // Without onError, stop() rejects with the first failure instead of dropping it.
    const silent = startDemoTrainer({
      s3,
      bucket: "no-such-bucket",
      prefix: "runs",
      run: "exp7",
      everyMs: 60_000,
      halfWrittenRate: 0,
      seed: 1,
    });
    await expect(silent.stop()).rejects.toThrow(/bucket/i);
    s3.destroy();
  });

  it("refuses options the files source would refuse", () => {
    const base = {
      s3: aws.s3,
      bucket: BUCKET,
      run: "exp7",
      everyMs: 1000,
      halfWrittenRate: 0.1,
      seed: 1,
    };
    expect(() => startDemoTrainer({ ...base, prefix: "runs/" })).toThrow(/prefix/);
    expect(() => startDemoTrainer({ ...base, prefix: "runs", run: "a/b" })).toThrow(/run/);
    expect(() => startDemoTrainer({ ...base, prefix: "runs", halfWrittenRate: 2 })).toThrow();
  });
});
