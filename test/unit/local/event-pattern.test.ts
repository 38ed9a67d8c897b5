import { describe, expect, it } from "vitest";
import { matchesPattern } from "../../../lib/local/event-pattern.ts";
import objectCreated from "../../events/s3/object-created.json" with { type: "json" };
import { topology } from "../../../lib/topology.ts";

// The example event of the EventBridge documentation ("Amazon EventBridge event patterns").
const ec2Event = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: {
    "instance-id": "i-1234567890abcdef0",
    state: "terminated",
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
  },
};

describe("matchesPattern", () => {
  it.each([
    ["exact value", { source: ["aws.ec2"] }, true],
    ["value list", { detail: { state: ["pending", "terminated"] } }, true],
    ["prefix", { time: [{ prefix: "2017-12-22" }] }, true],
    ["prefix, negative", { time: [{ prefix: "2018" }] }, false],
    ["suffix", { source: [{ suffix: ".ec2" }] }, true],
    [
      "equals-ignore-case",
      { "detail-type": [{ "equals-ignore-case": "ec2 instance state-change notification" }] },
      true,
    ],
    ["anything-but", { detail: { state: [{ "anything-but": "initializing" }] } }, true],
    [
      "anything-but, negative",
      { detail: { state: [{ "anything-but": ["stopped", "terminated"] }] } },
      false,
    ],
    ["anything-but prefix", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, true],
    ["numeric range", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, true],
    ["numeric range, negative", { detail: { "d-count": [{ numeric: ["<", 3] }] } }, false],
    ["exists", { detail: { state: [{ exists: true }] } }, true],
    ["exists false on a present field", { detail: { state: [{ exists: false }] } }, false],
    ["exists false on an absent field", { detail: { missing: [{ exists: false }] } }, true],
    [
      "array in the event",
      { resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"] },
      true,
    ],
    ["wildcard", { detail: { "instance-id": [{ wildcard: "i-*def0" }] } }, true],
    [
      "$or",
      {
        detail: {
          $or: [{ "c-count": [{ numeric: [">", 10] }] }, { "d-count": [{ numeric: ["<", 5] }] }],
        },
      },
      true,
    ],
    [
      "$or, negative",
      { detail: { $or: [{ "c-count": [{ numeric: [">", 10] }] }, { state: ["running"] }] } },
      false,
    ],
    ["every field must match", { source: ["aws.ec2"], detail: { state: ["running"] } }, false],
    ["missing field", { detail: { nothing: ["x"] } }, false],
  ])("%s", (_name, pattern, expected) => {
    expect(matchesPattern(pattern, ec2Event)).toBe(expected);
  });

  it("routes S3's Object Created event for snapshot files through the topology's rule", () => {
    const rule = topology.rules.find((r) => r.name === "snapshot-file-created")!;
    expect(
      matchesPattern(rule.pattern({ snapshotBucket: "simsnap-snapshots" }), objectCreated),
    ).toBe(true);
    expect(matchesPattern(rule.pattern({ snapshotBucket: "other-bucket" }), objectCreated)).toBe(
      false,
    );
    const manifest = {
      ...objectCreated,
      detail: { ...objectCreated.detail, object: { key: "a/manifest.json" } },
    };
    expect(matchesPattern(rule.pattern({ snapshotBucket: "simsnap-snapshots" }), manifest)).toBe(
      false,
    );
  });
});
