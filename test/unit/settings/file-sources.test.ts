import { describe, expect, it } from "vitest";
import { environmentFor, loadSettings, type DeploymentValues } from "../../../lib/settings.ts";
import { topology, type FunctionName, type QueueName } from "../../../lib/topology.ts";
import { fileSourcesOf } from "../../../lib/wiring/settings.ts";

const sources = [{ prefix: "training/runs", preset: "huggingface" as const, temporaryNames: [] }];
const values: DeploymentValues = {
  table: "catalog",
  snapshotBucket: "snapshots",
  snapshotPrefix: "simsnap",
  adoptedPrefixes: [],
  eventBus: "bus",
  queueUrls: Object.fromEntries(
    Object.keys(topology.queues).map((queue) => [queue, `https://sqs/${queue}`]),
  ) as Record<QueueName, string>,
  pruneDebounceSeconds: 45,
  files: { bucket: "training", sources },
};

describe("files sources in the environment", () => {
  it("go to exactly the functions that declare files access or the fileSources setting", () => {
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const needs = topology.functions[name].needs as {
        files?: object;
        settings?: readonly string[];
      };
      const declared =
        needs.files !== undefined || needs.settings?.includes("fileSources") === true;
      const environment = environmentFor(name, values);
      expect(environment.SIMSNAP_FILE_SOURCES !== undefined, name).toBe(declared);
      expect(environment.SIMSNAP_FILES_BUCKET !== undefined, name).toBe(declared);
    }
    expect(environmentFor("discover-files", values)).toMatchObject({
      SIMSNAP_FILES_BUCKET: "training",
      SIMSNAP_FILE_SOURCES: JSON.stringify(sources),
    });
  });

  it("are left out when the deployment configures none", () => {
    const without: DeploymentValues = { ...values, files: undefined };
    expect(environmentFor("discover-files", without).SIMSNAP_FILE_SOURCES).toBeUndefined();
    const settings = loadSettings(environmentFor("discover-files", without));
    expect(fileSourcesOf(settings)).toBeUndefined();
  });

  it("load compiled, once per settings object", () => {
    const settings = loadSettings(environmentFor("discover-files", values));
    const owned = fileSourcesOf(settings);
    expect(owned?.bucket).toBe("training");
    expect(owned?.sources.map((s) => [s.prefix, s.commit])).toEqual([
      ["training/runs", { kind: "marker", marker: "trainer_state.json", settleSeconds: 30 }],
    ]);
    expect(fileSourcesOf(settings)).toBe(owned);
  });

  it("fail loudly at init, naming the variable and the rule", () => {
    const base = environmentFor("discover-files", values);
    expect(() => loadSettings({ ...base, SIMSNAP_FILE_SOURCES: "[{" })).toThrow(
      /SIMSNAP_FILE_SOURCES: must be JSON/,
    );
    expect(() =>
      loadSettings({ ...base, SIMSNAP_FILE_SOURCES: '[{"prefix":"/runs","preset":"orbax"}]' }),
    ).toThrow(/SIMSNAP_FILE_SOURCES\.0\.prefix: must be key segments/);
    const withoutBucket = Object.fromEntries(
      Object.entries(base).filter(([variable]) => variable !== "SIMSNAP_FILES_BUCKET"),
    );
    expect(() => loadSettings(withoutBucket)).toThrow(
      "SIMSNAP_FILE_SOURCES and SIMSNAP_FILES_BUCKET are set together",
    );
  });
});
