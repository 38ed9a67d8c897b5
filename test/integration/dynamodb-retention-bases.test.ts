import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbRetentionBaseStore } from "../../lib/adapters/dynamodb/retention-base-store.ts";
import { RetentionPolicySchema, type RetentionBase } from "../../lib/domain/retention.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

const TABLE = "retention-bases";
let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws({ catalogTables: [TABLE] });
});

afterAll(async () => {
  await aws?.close();
});

const base = (at: string, overrides: Partial<RetentionBase> = {}): RetentionBase => ({
  scope: "checkpoints",
  simulation: "ocean",
  runId: `run at ${at}`,
  at,
  newest: "2026-11-01T09:00:00.000Z",
  policy: RetentionPolicySchema.parse({
    keepLast: 2,
    keepTags: [["gold", "release"]],
    keepBest: { metric: "eval_loss", mode: "min", count: 2 },
  }),
  ...overrides,
});

describe("retention bases on dynalite", () => {
  it("reads back what it recorded, per scope, and the later run's base always wins", async () => {
    const store = new DynamoDbRetentionBaseStore(aws.doc, TABLE);
    expect(await store.get("checkpoints", "ocean")).toBeUndefined();

    const later = base("2026-11-01T10:00:00.000Z");
    await store.put(later);
    expect(await store.get("checkpoints", "ocean")).toEqual(later);
    expect(await store.get("archives", "ocean")).toBeUndefined();

    // A run delivered late (or twice) does not move the base back; the same run again is harmless.
    await store.put(base("2026-11-01T09:30:00.000Z"));
    await store.put(later);
    expect(await store.get("checkpoints", "ocean")).toEqual(later);

    const next = base("2026-11-01T11:00:00.000Z");
    await store.put(next);
    expect(await store.get("checkpoints", "ocean")).toEqual(next);

    const archives = base("2026-11-01T08:00:00.000Z", { scope: "archives" });
    await store.put(archives);
    expect(await store.get("archives", "ocean")).toEqual(archives);
    expect(await store.get("checkpoints", "ocean")).toEqual(next);
  });

  it("records a base that approved nothing only where there is none", async () => {
    const store = new DynamoDbRetentionBaseStore(aws.doc, TABLE);
    const refused = { ...base("2026-11-02T10:00:00.000Z", { simulation: "first" }) };
    delete refused.policy;
    await store.put(refused);
    expect(await store.get("checkpoints", "first")).toEqual(refused);
    // An approval replaces it; a later refused run does not replace the approval.
    const approved = base("2026-11-02T11:00:00.000Z", { simulation: "first" });
    await store.put(approved);
    await store.put({ ...refused, at: "2026-11-02T12:00:00.000Z" });
    expect(await store.get("checkpoints", "first")).toEqual(approved);
  });

  it("answers none for an item that no longer reads as a base (every removal then counts)", async () => {
    const store = new DynamoDbRetentionBaseStore(aws.doc, TABLE);
    await aws.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: "RETENTION#checkpoints#garbled", sk: "BASE", at: "yesterday", policy: {} },
      }),
    );
    expect(await store.get("checkpoints", "garbled")).toBeUndefined();
  });
});
