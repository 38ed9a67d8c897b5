import { describe, expect, it } from "vitest";
import {
  environmentFor,
  loadSettings,
  undeclaredSettings,
  type DeploymentValues,
} from "../../../lib/settings.ts";
import { queueUrlEnv, topology, type FunctionName, type QueueName } from "../../../lib/topology.ts";

const values: DeploymentValues = {
  table: "catalog",
  snapshotBucket: "snapshots",
  snapshotPrefix: "team/sims",
  adoptedPrefixes: [],
  eventBus: "bus",
  queueUrls: Object.fromEntries(
    Object.keys(topology.queues).map((queue) => [queue, `https://sqs/${queue}`]),
  ) as Record<QueueName, string>,
  pruneDebounceSeconds: 45,
  archiveBucket: "archive",
  retention: { default: { keepLast: 3 } },
};

describe("environmentFor", () => {
  it("gives a function its declared resources and settings, and nothing it does not declare", () => {
    expect(environmentFor("plan-snapshots", values)).toEqual({
      SIMSNAP_TABLE: "catalog",
      SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
      SIMSNAP_SNAPSHOT_PREFIX: "team/sims",
      [queueUrlEnv("snapshot-requests")]: "https://sqs/snapshot-requests",
      [queueUrlEnv("stop-requests")]: "https://sqs/stop-requests",
    });
    expect(environmentFor("prune", values)).toEqual({
      SIMSNAP_TABLE: "catalog",
      SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
      SIMSNAP_SNAPSHOT_PREFIX: "team/sims",
      SIMSNAP_EVENT_BUS: "bus",
      SIMSNAP_ARCHIVE_BUCKET: "archive",
      SIMSNAP_RETENTION: '{"default":{"keepLast":3}}',
      SIMSNAP_PRUNE_DEBOUNCE_SECONDS: "45",
      // A prune too large for one invocation hands the rest to its own queue.
      [queueUrlEnv("prune-requests")]: "https://sqs/prune-requests",
    });
  });

  it("leaves out what the deployment does not configure, so the functions' defaults apply", () => {
    const bare = { ...values, archiveBucket: undefined, retention: undefined };
    const environment = environmentFor("api", bare);
    expect(environment).not.toHaveProperty("SIMSNAP_ARCHIVE_BUCKET");
    expect(environment).not.toHaveProperty("SIMSNAP_RETENTION");
    expect(environment).not.toHaveProperty("SIMSNAP_SIMULATION_ROLE_ARN");
    expect(environment).not.toHaveProperty("SIMSNAP_ADOPTED_PREFIXES");
    expect(environmentFor("api", { ...bare, adoptedPrefixes: ["a", "b/c"] })).toMatchObject({
      SIMSNAP_ADOPTED_PREFIXES: "a,b/c",
    });
  });

  it("is an environment each function's settings load from", () => {
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      expect(() => loadSettings(environmentFor(name, values)), name).not.toThrow();
    }
    expect(loadSettings(environmentFor("prune", values))).toMatchObject({
      SIMSNAP_PRUNE_DEBOUNCE_SECONDS: 45,
      SIMSNAP_RETENTION: { default: { keepLast: 3 } },
    });
  });
});

describe("NVIDIA Air's settings", () => {
  const air = {
    ...values,
    air: { endpoint: "https://air.example.com/api/v3/", tokenSecret: "air/token" },
  };

  it("go only to the functions that declare Air operations", () => {
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const environment = environmentFor(name, air);
      const declared = (topology.functions[name].needs as { air?: readonly string[] }).air ?? [];
      expect(environment.SIMSNAP_AIR_ENDPOINT, name).toBe(
        declared.length > 0 ? "https://air.example.com/api/v3/" : undefined,
      );
      expect(environment.SIMSNAP_AIR_TOKEN_SECRET, name).toBe(
        declared.length > 0 ? "air/token" : undefined,
      );
      expect(() => loadSettings(environment), name).not.toThrow();
    }
    expect(undeclaredSettings("take-snapshot")).toContain("SIMSNAP_AIR_TOKEN_SECRET");
    expect(undeclaredSettings("prune")).not.toContain("SIMSNAP_AIR_ENDPOINT");
  });

  it("need exactly one token source with the endpoint, and none without it", () => {
    const base = environmentFor("plan-snapshots", values);
    const endpoint = { SIMSNAP_AIR_ENDPOINT: "https://air.example.com/api/v3/" };
    expect(() => loadSettings({ ...base, ...endpoint })).toThrow(
      /neither SIMSNAP_AIR_TOKEN_SECRET nor SIMSNAP_AIR_TOKEN_ENV/,
    );
    expect(() =>
      loadSettings({
        ...base,
        ...endpoint,
        SIMSNAP_AIR_TOKEN_SECRET: "air/token",
        SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN",
      }),
    ).toThrow(/both set/);
    expect(() => loadSettings({ ...base, SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN" })).toThrow(
      /without SIMSNAP_AIR_ENDPOINT/,
    );
    expect(() =>
      loadSettings({ ...base, ...endpoint, SIMSNAP_AIR_TOKEN_ENV: "AIR-TOKEN" }),
    ).toThrow(/SIMSNAP_AIR_TOKEN_ENV/);
    expect(
      loadSettings({ ...base, ...endpoint, SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN" }),
    ).toMatchObject({ SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN" });
  });
});

describe("undeclaredSettings", () => {
  it("names what other functions get but this one does not declare", () => {
    expect(undeclaredSettings("prune").sort()).toEqual([
      "SIMSNAP_ARCHIVE_RETENTION",
      "SIMSNAP_ARCHIVE_STORAGE_CLASS",
      "SIMSNAP_FRESHNESS_WATCHES",
      "SIMSNAP_SIMULATION_ROLE_ARN",
      "SIMSNAP_VERIFICATION_CHECK",
    ]);
    expect(undeclaredSettings("plan-snapshots")).toContain("SIMSNAP_EVENT_BUS");
    expect(undeclaredSettings("restore-checkpoint")).not.toContain("SIMSNAP_SIMULATION_ROLE_ARN");
  });
});
