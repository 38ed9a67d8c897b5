import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { LOCAL_SNAPSHOT_BUCKET } from "../../lib/domain/config-file.ts";
import { startJob } from "../../lib/domain/job.ts";
import { LocalConfigSchema } from "../../lib/local/demo-config.ts";
import { checkpoint } from "../support/checkpoint-factory.ts";
import { LOCAL_CREDENTIALS } from "../support/local-aws.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

let stack: RunningStack;
let jobs: DynamoDbJobStore;

beforeAll(async () => {
  stack = await startLocalStack({ simulations: ["alpha"] });
  const client = new DynamoDBClient({
    endpoint: stack.info.endpoints.dynamodb,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  jobs = new DynamoDbJobStore(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    LocalConfigSchema.parse({}).table,
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the sweeper on the local stack", () => {
  it("ends a snapshot job whose status check message was lost, instead of leaving it RUNNING", async () => {
    const now = Date.now();
    const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
    // A requested snapshot whose status check is 30 s overdue and whose message no queue holds,
    // as a kill -9 of the local stack leaves it; nothing but the sweeper can move it now.
    await stack.catalog.create(
      checkpoint({
        id: "cp-lost-check",
        simulation: "alpha",
        provider: "simspaceweaver",
        state: "PENDING",
        createdAt: at(-31),
        modifiedAt: at(-31),
        completedAt: undefined,
        location: undefined,
        size: undefined,
        jobId: "job-lost-check",
      }),
    );
    await jobs.create(
      startJob(
        {
          id: "job-lost-check",
          kind: "snapshot",
          simulation: "alpha",
          checkpointId: "cp-lost-check",
          destination: { bucket: LOCAL_SNAPSHOT_BUCKET, prefix: "simsnap" },
          attempts: 1,
          requestedAt: at(-30),
          nextCheckAt: at(-29),
          deadline: at(8),
        },
        new Date(now - 31_000),
      ),
    );

    const ended = await stack.client.jobs.wait("job-lost-check", {
      intervalMs: 250,
      timeoutMs: 40_000,
    });

    // No snapshot was ever taken, so the job cannot complete: it fails at its deadline, either
    // by the status check the sweeper re-sent or by the sweeper itself.
    expect(ended).toMatchObject({ status: "FAILED", error: { code: "DeadlineExceeded" } });
    expect(await stack.catalog.get("cp-lost-check")).toMatchObject({
      state: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
    expect(stack.lines.some((l) => l.includes("✗ checkpoint failed") && l.includes("alpha"))).toBe(
      true,
    );
  }, 60_000);
});
