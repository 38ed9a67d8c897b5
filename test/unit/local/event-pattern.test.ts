import { describe, expect, it } from "vitest";
import { matchesPattern } from "../../../lib/local/event-pattern.ts";
import { topology, type TopologyNames } from "../../../lib/topology.ts";
import deleteSimulation from "../../events/cloudtrail/delete-simulation.json" with { type: "json" };
import stopRefused from "../../events/cloudtrail/stop-simulation-refused.json" with { type: "json" };
import stopSimulation from "../../events/cloudtrail/stop-simulation.json" with { type: "json" };
import checkpointCreated from "../../events/s3/checkpoint-object-created.json" with { type: "json" };
import checkpointDeleted from "../../events/s3/checkpoint-object-deleted.json" with { type: "json" };
import objectCreated from "../../events/s3/object-created.json" with { type: "json" };

// The example event of the EventBridge documentation ("Amazon EventBridge event patterns"), with
// the detail fields its content-filtering examples use.
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

// The fields of the documentation's comparison-operator table, in one event.
const tableEvent = {
  Location: "New York",
  Day: "Monday",
  Name: "Alice",
  PaymentType: "Credit",
  Price: 15,
  Weather: "Sunny",
  UserID: null,
  LastName: "",
  ProductName: "Widget",
  FileName: "dir/photos/image.png",
  FilePath: "/usr/lib/libssl.so",
  Region: "us-east-1",
  service: "EventBridge",
  EventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/orders",
};

describe("matchesPattern, on the documentation's EC2 event", () => {
  it.each([
    ["exact value", { source: ["aws.ec2"] }, true],
    ["exact value, negative", { source: ["aws.s3"] }, false],
    ["value list (OR)", { detail: { state: ["pending", "terminated"] } }, true],
    ["prefix", { time: [{ prefix: "2017-12-22" }] }, true],
    ["prefix, negative", { time: [{ prefix: "2018" }] }, false],
    [
      "prefix ignoring case",
      { "detail-type": [{ prefix: { "equals-ignore-case": "ec2 INSTANCE" } }] },
      true,
    ],
    ["prefix is case-sensitive", { "detail-type": [{ prefix: "ec2 instance" }] }, false],
    ["suffix", { source: [{ suffix: ".ec2" }] }, true],
    ["suffix ignoring case", { source: [{ suffix: { "equals-ignore-case": ".EC2" } }] }, true],
    [
      "equals-ignore-case",
      { "detail-type": [{ "equals-ignore-case": "ec2 instance state-change notification" }] },
      true,
    ],
    ["anything-but a string", { detail: { state: [{ "anything-but": "initializing" }] } }, true],
    ["anything-but a number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, true],
    [
      "anything-but the number itself",
      { detail: { "x-limit": [{ "anything-but": 301.8 }] } },
      false,
    ],
    [
      "anything-but a list of strings",
      { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
      true,
    ],
    [
      "anything-but a list holding the value",
      { detail: { state: [{ "anything-but": ["stopped", "terminated"] }] } },
      false,
    ],
    [
      "anything-but a list of numbers",
      { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
      true,
    ],
    ["anything-but prefix", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, true],
    [
      "anything-but prefix, negative",
      { detail: { state: [{ "anything-but": { prefix: "term" } }] } },
      false,
    ],
    [
      "anything-but suffix, negative",
      { detail: { state: [{ "anything-but": { suffix: "ated" } }] } },
      false,
    ],
    [
      "anything-but ignoring case",
      {
        detail: {
          state: [{ "anything-but": { "equals-ignore-case": ["Stopped", "OverLoaded"] } }],
        },
      },
      true,
    ],
    [
      "anything-but ignoring case, negative",
      { detail: { state: [{ "anything-but": { "equals-ignore-case": "TERMINATED" } }] } },
      false,
    ],
    [
      "anything-but on a missing field",
      { detail: { missing: [{ "anything-but": "initializing" }] } },
      false,
    ],
    [
      "numeric (the documentation's three ranges)",
      {
        detail: {
          "c-count": [{ numeric: [">", 0, "<=", 5] }],
          "d-count": [{ numeric: ["<", 10] }],
          "x-limit": [{ numeric: ["=", 3.018e2] }],
        },
      },
      true,
    ],
    ["numeric range, negative", { detail: { "d-count": [{ numeric: ["<", 3] }] } }, false],
    ["numeric on a string", { detail: { state: [{ numeric: [">", 0] }] } }, false],
    ["cidr", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, true],
    ["cidr, negative", { detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, false],
    ["exists", { detail: { state: [{ exists: true }] } }, true],
    ["exists false on a present field", { detail: { state: [{ exists: false }] } }, false],
    ["exists false on an absent field", { detail: { missing: [{ exists: false }] } }, true],
    ["exists on an intermediate node", { detail: [{ exists: true }] }, false],
    ["exists false under an absent object", { nothing: { here: [{ exists: false }] } }, true],
    [
      "array in the event",
      { resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"] },
      true,
    ],
    [
      "array in the event, negative",
      { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] },
      false,
    ],
    ["wildcard", { detail: { "instance-id": [{ wildcard: "i-*def0" }] } }, true],
    ["wildcard, negative", { detail: { "instance-id": [{ wildcard: "i-*abc" }] } }, false],
    [
      "$or (the documentation's example)",
      {
        detail: {
          $or: [
            { "c-count": [{ numeric: [">", 0, "<=", 5] }] },
            { "d-count": [{ numeric: ["<", 10] }] },
            { "x-limit": [{ numeric: ["=", 3.018e2] }] },
          ],
        },
      },
      true,
    ],
    [
      "$or, negative",
      { detail: { $or: [{ "c-count": [{ numeric: [">", 10] }] }, { state: ["running"] }] } },
      false,
    ],
    [
      "$or beside other fields, at the top level",
      {
        source: ["aws.ec2"],
        $or: [
          { "detail-type": ["Spot Instance Interruption"] },
          { detail: { state: ["terminated"] } },
        ],
      },
      true,
    ],
    [
      "nested $or",
      {
        $or: [
          { source: ["aws.s3"] },
          { $or: [{ region: ["eu-west-1"] }, { detail: { "d-count": [3] } }] },
        ],
      },
      true,
    ],
    ["every field must match", { source: ["aws.ec2"], detail: { state: ["running"] } }, false],
    ["missing field", { detail: { nothing: ["x"] } }, false],
  ])("%s", (_name, pattern, expected) => {
    expect(matchesPattern(pattern, ec2Event)).toBe(expected);
  });
});

describe("matchesPattern, on the documentation's comparison-operator table", () => {
  it.each([
    ["And", { Location: ["New York"], Day: ["Monday"] }, true],
    ["And, negative", { Location: ["New York"], Day: ["Tuesday"] }, false],
    ["Anything-but", { Weather: [{ "anything-but": ["Raining"] }] }, true],
    ["Anything-but, negative", { Weather: [{ "anything-but": ["Sunny"] }] }, false],
    ["Anything-but (begins with)", { Region: [{ "anything-but": { prefix: "eu-" } }] }, true],
    [
      "Anything-but (begins with), negative",
      { Region: [{ "anything-but": { prefix: "us-" } }] },
      false,
    ],
    ["Anything-but (ends with)", { FileName: [{ "anything-but": { suffix: ".txt" } }] }, true],
    [
      "Anything-but (ends with), negative",
      { FileName: [{ "anything-but": { suffix: ".png" } }] },
      false,
    ],
    [
      "Anything-but using a wildcard",
      { FilePath: [{ "anything-but": { wildcard: "*/bin/*" } }] },
      true,
    ],
    [
      "Anything-but using a wildcard, negative",
      { FilePath: [{ "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] },
      false,
    ],
    ["Begins with", { Region: [{ prefix: "us-" }] }, true],
    [
      "Begins with (ignore case)",
      { service: [{ prefix: { "equals-ignore-case": "eventb" } }] },
      true,
    ],
    ["Empty", { LastName: [""] }, true],
    ["Empty, negative", { Name: [""] }, false],
    ["Equals", { Name: ["Alice"] }, true],
    ["Equals is case-sensitive", { Name: ["alice"] }, false],
    ["Equals (ignore case)", { Name: [{ "equals-ignore-case": "alice" }] }, true],
    ["Ends with", { FileName: [{ suffix: ".png" }] }, true],
    [
      "Ends with (ignore case)",
      { service: [{ suffix: { "equals-ignore-case": "tBridge" } }] },
      true,
    ],
    ["Exists", { ProductName: [{ exists: true }] }, true],
    ["Does not exist", { Discount: [{ exists: false }] }, true],
    ["Does not exist, negative", { ProductName: [{ exists: false }] }, false],
    ["Null", { UserID: [null] }, true],
    ["Null does not match a missing field", { ManagerID: [null] }, false],
    ["Null is a value, so it exists", { UserID: [{ exists: true }] }, true],
    ["Number", { Price: [15] }, true],
    ["A number does not equal its string", { Price: ["15"] }, false],
    ["Numeric (range)", { Price: [{ numeric: [">", 10, "<=", 20] }] }, true],
    ["Numeric (range), negative", { Price: [{ numeric: [">", 20] }] }, false],
    ["Or", { PaymentType: ["Credit", "Debit"] }, true],
    ["Or (multiple fields)", { $or: [{ Location: ["Boston"] }, { Day: ["Monday"] }] }, true],
    [
      "Or (multiple fields), negative",
      { $or: [{ Location: ["Boston"] }, { Day: ["Friday"] }] },
      false,
    ],
    ["Wildcard", { FileName: [{ wildcard: "dir/*.png" }] }, true],
    ["Wildcard, negative", { FileName: [{ wildcard: "other/*.png" }] }, false],
    [
      "Wildcard (the documentation's event-bus ARN)",
      { EventBusArn: [{ wildcard: "arn:aws:events:us-east-1:*:event-bus/*" }] },
      true,
    ],
    [
      "Wildcard (the documentation's event-bus ARN), negative",
      { EventBusArn: [{ wildcard: "arn:aws:events:us-west-2:*:event-bus/*" }] },
      false,
    ],
  ])("%s", (_name, pattern, expected) => {
    expect(matchesPattern(pattern, tableEvent)).toBe(expected);
  });
});

describe("matchesPattern, edge cases EventBridge defines", () => {
  it("reads \\* in a wildcard as a literal star", () => {
    expect(matchesPattern({ a: [{ wildcard: "2\\*3" }] }, { a: "2*3" })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: "2\\*3" }] }, { a: "2x3" })).toBe(false);
    expect(matchesPattern({ a: [{ wildcard: "*" }] }, { a: "" })).toBe(true);
  });

  it("matches IPv6 addresses against IPv6 blocks only", () => {
    const event = { ip: "2001:db8::1", v4: "192.0.2.10" };
    expect(matchesPattern({ ip: [{ cidr: "2001:db8::/32" }] }, event)).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: "2001:db9::/32" }] }, event)).toBe(false);
    expect(matchesPattern({ v4: [{ cidr: "::/0" }] }, event)).toBe(false);
    expect(matchesPattern({ v4: [{ cidr: "192.0.2.10" }] }, event)).toBe(true);
  });

  it("matches an object in an array as a whole, never mixing two elements", () => {
    const event = {
      detail: {
        items: [
          { a: 1, b: 2 },
          { a: 3, b: 4 },
        ],
      },
    };
    expect(matchesPattern({ detail: { items: { a: [3], b: [4] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { items: { a: [1], b: [4] } } }, event)).toBe(false);
  });

  it("treats an empty array as no value", () => {
    expect(matchesPattern({ tags: [{ exists: true }] }, { tags: [] })).toBe(false);
    expect(matchesPattern({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
  });
});

describe("the topology's rules", () => {
  const deployed = (name: string, names: TopologyNames) => {
    const found = topology.rules.find((r) => r.name === name);
    const pattern = found?.pattern(names);
    if (!pattern) throw new Error(`No rule ${name} is deployed with ${JSON.stringify(names)}`);
    return pattern;
  };
  const rule = (name: string) =>
    deployed(name, { snapshotBucket: "simsnap-snapshots", snapshotPrefixes: ["simsnap"] });
  const snapshotRule = (names: TopologyNames) => deployed("snapshot-file-created", names);
  const created = (key: string) => ({
    ...objectCreated,
    detail: { ...objectCreated.detail, object: { ...objectCreated.detail.object, key } },
  });

  it("routes S3's Object Created event for snapshot files, and nothing else", () => {
    const pattern = rule("snapshot-file-created");
    expect(matchesPattern(pattern, objectCreated)).toBe(true);
    const other = snapshotRule({ snapshotBucket: "other-bucket", snapshotPrefixes: ["simsnap"] });
    expect(matchesPattern(other, objectCreated)).toBe(false);
    expect(matchesPattern(pattern, created("a/manifest.json"))).toBe(false);
    expect(matchesPattern(pattern, created("simsnap/restore/c-1/s-261123-1015-30.zip"))).toBe(
      false,
    );
  });

  it("routes only files in the snapshot folders of the owned prefixes", () => {
    const foreign = created("otherteam/snapshot/x-261123-1015-30.zip");
    const pattern = rule("snapshot-file-created");
    expect(matchesPattern(pattern, foreign)).toBe(false);
    expect(matchesPattern(pattern, created("simsnap-old/snapshot/x-261123-1015-30.zip"))).toBe(
      false,
    );
    expect(matchesPattern(pattern, created("x/simsnap/snapshot/x-261123-1015-30.zip"))).toBe(false);
    const adopting = snapshotRule({
      snapshotBucket: "simsnap-snapshots",
      snapshotPrefixes: ["simsnap", "otherteam"],
    });
    expect(matchesPattern(adopting, foreign)).toBe(true);
    expect(matchesPattern(adopting, objectCreated)).toBe(true);
    const root = snapshotRule({ snapshotBucket: "simsnap-snapshots", snapshotPrefixes: [""] });
    expect(matchesPattern(root, created("snapshot/x-261123-1015-30.zip"))).toBe(true);
    expect(matchesPattern(root, objectCreated)).toBe(false);
  });

  it("routes created and deleted objects under the files sources only, when there are any", () => {
    const names = {
      snapshotBucket: "simsnap-snapshots",
      snapshotPrefixes: ["simsnap"],
      files: { bucket: "simsnap-snapshots", prefixes: ["training/runs", "hpc"] },
    };
    const pattern = deployed("checkpoint-file-changed", names);
    expect(matchesPattern(pattern, checkpointCreated)).toBe(true);
    expect(matchesPattern(pattern, checkpointDeleted)).toBe(true);
    const at = (key: string) => ({
      ...checkpointCreated,
      detail: { ...checkpointCreated.detail, object: { ...checkpointCreated.detail.object, key } },
    });
    expect(matchesPattern(pattern, at("hpc/lammps/100/restart.bin"))).toBe(true);
    // Beside a source, above it, or in simsnap's own folders: never routed to discovery.
    expect(matchesPattern(pattern, at("training/runs-old/x/checkpoint-1/a"))).toBe(false);
    expect(matchesPattern(pattern, at("training/notes.txt"))).toBe(false);
    expect(matchesPattern(pattern, objectCreated)).toBe(false);
    const elsewhere = deployed("checkpoint-file-changed", {
      ...names,
      files: { bucket: "training-data", prefixes: ["training/runs"] },
    });
    expect(matchesPattern(elsewhere, checkpointCreated)).toBe(false);
    // Without files sources the rule is not deployed at all.
    const rule = topology.rules.find((r) => r.name === "checkpoint-file-changed");
    expect(rule?.pattern({ snapshotBucket: "simsnap-snapshots", snapshotPrefixes: [] })).toBe(
      undefined,
    );
  });

  it("reads a star in an owned prefix literally", () => {
    const pattern = snapshotRule({ snapshotBucket: "simsnap-snapshots", snapshotPrefixes: ["a*"] });
    expect(matchesPattern(pattern, created("a*/snapshot/x-261123-1015-30.zip"))).toBe(true);
    expect(matchesPattern(pattern, created("ab/snapshot/x-261123-1015-30.zip"))).toBe(false);
  });

  it("routes successful StopSimulation and DeleteSimulation calls, not refused ones", () => {
    const pattern = rule("simulation-shut-down");
    expect(matchesPattern(pattern, stopSimulation)).toBe(true);
    expect(matchesPattern(pattern, deleteSimulation)).toBe(true);
    expect(matchesPattern(pattern, stopRefused)).toBe(false);
    const start = {
      ...stopSimulation,
      detail: { ...stopSimulation.detail, eventName: "StartSimulation" },
    };
    expect(matchesPattern(pattern, start)).toBe(false);
  });

  it("routes only shutdown checkpoints to the stop that waits for them", () => {
    const pattern = rule("final-snapshot-ended");
    const event = (detailType: string, trigger: string) => ({
      source: "simsnap",
      "detail-type": detailType,
      detail: { version: "1", checkpoint: { id: "c1", trigger } },
    });
    expect(matchesPattern(pattern, event("Checkpoint Completed", "shutdown"))).toBe(true);
    expect(matchesPattern(pattern, event("Checkpoint Failed", "shutdown"))).toBe(true);
    expect(matchesPattern(pattern, event("Checkpoint Completed", "schedule"))).toBe(false);
    expect(matchesPattern(pattern, event("Snapshot Requested", "shutdown"))).toBe(false);
  });

  it("routes Simulation Stop Requested from any source", () => {
    const pattern = rule("simulation-stop-requested");
    const request = (source: string, detailType = "Simulation Stop Requested") => ({
      source,
      "detail-type": detailType,
      detail: { simulation: "traffic-sim" },
    });
    expect(matchesPattern(pattern, request("com.example.ops"))).toBe(true);
    expect(matchesPattern(pattern, request("simsnap"))).toBe(true);
    expect(matchesPattern(pattern, request("com.example.ops", "Simulation Stopped"))).toBe(false);
  });
});
