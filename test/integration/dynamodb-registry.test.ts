import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbTagCache } from "../../lib/adapters/dynamodb/tag-cache.ts";
import { completeCheckpoint } from "../../lib/domain/checkpoint.ts";
import type { CachedTags } from "../../lib/ports/catalog.ts";
import { checkpointFreshness } from "../../lib/usecases/snapshot/checkpoint-freshness.ts";
import { checkpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock } from "../support/memory.ts";

let aws: LocalAws;
/** DynamoDB requests the document client sent, by command name. */
const sent = new Map<string, number>();

beforeAll(async () => {
  aws = await startLocalAws({ catalogTables: ["registry"] });
  aws.doc.middlewareStack.add(
    (next, context) => (args) => {
      const command = String(context.commandName);
      sent.set(command, (sent.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
});

afterAll(async () => {
  await aws?.close();
});

describe("the simulation registry on dynalite", () => {
  it("backfills a registry item an older version wrote, once, from the simulation's listing", async () => {
    const store = new DynamoDbCheckpointStore(aws.doc, "registry");
    const now = new Date("2026-03-10T12:00:00.000Z");
    const completed = checkpoint({ simulation: "legacy", createdAt: "2026-03-10T09:00:00.000Z" });
    await store.create(completed);
    // What the registry item looked like before it kept times.
    await aws.doc.send(
      new PutCommand({
        TableName: "registry",
        Item: { pk: "SIMULATIONS", sk: "SIM#legacy", simulation: "legacy" },
      }),
    );
    const deps = { checkpoints: store, clock: new ManualClock(now) };

    sent.clear();
    expect(await checkpointFreshness(["legacy"], deps)).toEqual([
      { simulation: "legacy", ageSeconds: 3 * 3600, newestCompletedAt: completed.createdAt },
    ]);
    expect(sent.get("QueryCommand")).toBe(1);
    expect(sent.get("UpdateItemCommand")).toBe(1);

    sent.clear();
    expect(await checkpointFreshness(["legacy"], deps)).toEqual([
      { simulation: "legacy", ageSeconds: 3 * 3600, newestCompletedAt: completed.createdAt },
    ]);
    expect([...sent]).toEqual([["BatchGetItemCommand", 1]]);
  });

  it("answers the freshness of 250 simulations with 3 catalog requests", async () => {
    const store = new DynamoDbCheckpointStore(aws.doc, "registry");
    const names = Array.from({ length: 250 }, (_, i) => `fleet-${i}`);
    for (const simulation of names) {
      const pending = checkpoint({
        simulation,
        state: "PENDING",
        location: undefined,
        createdAt: "2026-03-10T11:00:00.000Z",
      });
      await store.create(pending);
      await store.save(
        completeCheckpoint(
          pending,
          { location: { bucket: "b", key: `${simulation}/snapshot/x.zip` } },
          new Date(),
        ),
      );
    }
    const clock = new ManualClock(new Date("2026-03-10T12:00:00.000Z"));

    sent.clear();
    const freshness = await checkpointFreshness(names, { checkpoints: store, clock });

    expect(freshness.every((f) => f.ageSeconds === 3600)).toBe(true);
    expect([...sent]).toEqual([["BatchGetItemCommand", 3]]);
  });
});

describe("DynamoDbTagCache on dynalite", () => {
  it("puts and gets back more entries than one batch holds, 25 a write and 100 a read", async () => {
    const cache = new DynamoDbTagCache(aws.doc, "registry");
    const entries = new Map<string, CachedTags>(
      Array.from({ length: 130 }, (_, i): [string, CachedTags] => [
        `simspaceweaver/arn:aws:simspaceweaver:us-east-1:1:simulation/s-${i}/2026-01-01T00:00:00.000Z`,
        {
          tags: i % 2 === 0 ? { team: "oceans", index: String(i) } : {},
          readAt: `2026-03-10T1${i % 10}:00:00.000Z`,
        },
      ]),
    );

    sent.clear();
    await cache.put(entries);
    const read = await cache.get([...entries.keys(), "simspaceweaver/unknown/"]);

    expect(read).toEqual(entries);
    expect([...sent].sort()).toEqual([
      ["BatchGetItemCommand", 2],
      ["BatchWriteItemCommand", 6],
    ]);
  });
});
