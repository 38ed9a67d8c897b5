import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SimsnapConfigSchema } from "../../../lib/domain/config-file.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { configFilePath, loadConfigFile } from "../../../lib/load-config-file.ts";

const parse = (input: unknown) => parseInput(SimsnapConfigSchema, input, "config file");

const problems = (input: unknown): { path: string; message: string }[] => {
  try {
    parse(input);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.details];
    throw error;
  }
  throw new Error("the config was accepted");
};

const schedule = (fields: Record<string, unknown>) => ({
  schedules: [{ name: "hourly", expression: "rate(1 hour)", ...fields }],
});

describe("the config file schema", () => {
  it("fills defaults: prefix simsnap, UTC, enabled, an empty selector, snapshots (never cycles), no demo simulations", () => {
    expect(parse(schedule({}))).toEqual({
      destination: { prefix: "simsnap", adoptPrefixes: [] },
      schedules: [
        {
          name: "hourly",
          expression: "rate(1 hour)",
          timeZone: "UTC",
          selector: {},
          action: "snapshot",
          enabled: true,
        },
      ],
      providers: {},
      local: { simulations: [] },
    });
  });

  it("reads the repository's sample, which npm start and cdk synth use", () => {
    const config = loadConfigFile(resolve(import.meta.dirname, "../../../simsnap.config.json"));
    expect(config.schedules.map((s) => [s.name, s.expression, s.localExpression])).toEqual([
      ["hourly", "cron(0 * * * ? *)", "rate(10 seconds)"],
      ["oceans-nightly", "cron(30 2 * * ? *)", undefined],
    ]);
    expect(config.local.simulations.map((s) => [s.name, s.provider])).toEqual([
      ["ocean-currents", "simspaceweaver"],
      ["city-traffic", "simspaceweaver"],
      ["air-lab", "air"],
    ]);
    // NVIDIA Air and the demo trainer are the local demo's only: a deployment of the sample
    // configures no Air and no files source; the trainer's run gets its own policy.
    expect(config.providers).toEqual({});
    expect(config.local.trainer).toMatchObject({ prefix: "training/runs", run: "bert-demo" });
    expect(config.retention?.overrides.find((o) => o.provider === "files")?.policy).toMatchObject({
      keepBest: { metric: "eval_loss", mode: "min", count: 2 },
      keepLast: 2,
    });
    expect(config.retention?.default.keepLast).toBe(2);
  });

  it.each([
    [
      "seconds in expression",
      schedule({ expression: "rate(10 seconds)" }),
      "schedules.0.expression",
      /only the local runtime runs .*put it in localExpression/,
    ],
    [
      "an invalid local expression",
      schedule({ localExpression: "rate(0 seconds)" }),
      "schedules.0.localExpression",
      /must have a positive value/,
    ],
    [
      "a time zone that is not IANA",
      schedule({ timeZone: "Mars/Olympus" }),
      "schedules.0.timeZone",
      /IANA time zone/,
    ],
    ["an unknown field", schedule({ cron: "0 * * * *" }), "schedules.0", /Unrecognized key.*cron/],
    ["an unknown top-level field", { schedule: [] }, "(root)", /Unrecognized key.*schedule/],
    [
      "a bad glob",
      schedule({ selector: { names: ["sim-[z-a]"] } }),
      "schedules.0.selector.names.0",
      /range z-a is reversed/,
    ],
    [
      "an empty name list",
      schedule({ selector: { names: [] } }),
      "schedules.0.selector.names",
      /at least one glob/,
    ],
    [
      "a schedule name Scheduler refuses",
      schedule({ name: "every hour" }),
      "schedules.0.name",
      /EventBridge Scheduler's rule/,
    ],
    [
      "a bucket name S3 refuses",
      { destination: { bucket: "My_Bucket" } },
      "destination.bucket",
      /S3 bucket name/,
    ],
    [
      "a prefix with a leading slash",
      { destination: { prefix: "/snapshots" } },
      "destination.prefix",
      /no leading or trailing/,
    ],
    [
      "a prefix with a .. segment",
      { destination: { prefix: "simsnap/../other" } },
      "destination.prefix",
      /must not have a "\." or "\.\." segment/,
    ],
    [
      "an adopted prefix with a . segment",
      { destination: { adoptPrefixes: ["otherteam", "./x"] } },
      "destination.adoptPrefixes.1",
      /must not have a "\." or "\.\." segment/,
    ],
    [
      "an invalid retention policy",
      { retention: { default: { keepLast: -2 } } },
      "retention.default.keepLast",
      /./,
    ],
    [
      "an unknown archive setting",
      { archive: { region: "eu-west-1" } },
      "archive",
      /Unrecognized key.*region/,
    ],
    [
      "an unknown storage class",
      { archive: { storageClass: "COLD" } },
      "archive.storageClass",
      /./,
    ],
  ])("names the field and the rule: %s", (_name, input, path, rule) => {
    const found = problems(input);
    expect(found.map((p) => p.path)).toContain(path);
    expect(found.find((p) => p.path === path)?.message).toMatch(rule);
  });

  it("refuses two schedules whose names differ only in case", () => {
    const found = problems({
      schedules: [
        { name: "Hourly", expression: "rate(1 hour)" },
        { name: "hourly", expression: "rate(2 hours)" },
      ],
    });
    expect(found).toEqual([
      {
        path: "schedules.1.name",
        message: 'must be unique ignoring case; schedules.0 is also named "Hourly"',
      },
    ]);
  });
});

describe("providers in the config file", () => {
  it("configures NVIDIA Air with its endpoint, its token from the AIR_API_TOKEN variable locally by default", () => {
    expect(
      parse({ providers: { air: { endpoint: "https://air.example.com/api/v3/" } } }).providers,
    ).toEqual({
      air: { endpoint: "https://air.example.com/api/v3/", token: { env: "AIR_API_TOKEN" } },
    });
    expect(
      parse({
        providers: {
          air: {
            endpoint: "https://air.example.com",
            token: {
              secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:air-AbCdEf",
              env: "MY_AIR",
            },
          },
        },
      }).providers.air?.token,
    ).toEqual({
      secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:air-AbCdEf",
      env: "MY_AIR",
    });
  });

  it.each([
    [{ air: { endpoint: "air.example.com" } }, "providers.air.endpoint"],
    [{ air: { endpoint: "ftp://air.example.com" } }, "providers.air.endpoint"],
    [
      { air: { endpoint: "https://a", token: { secretArn: "arn:x" } } },
      "providers.air.token.secretArn",
    ],
    [
      {
        air: {
          endpoint: "https://a",
          token: {
            secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
            secretName: "a",
          },
        },
      },
      "providers.air.token.secretName",
    ],
    [{ air: { endpoint: "https://a", token: { env: "AIR-TOKEN" } } }, "providers.air.token.env"],
    [{ weaver: {} }, "providers"],
  ])("refuses %j at %s", (providers, path) => {
    expect(problems({ providers }).map((p) => p.path)).toContain(path);
  });

  it("puts each demo simulation on one provider, Air's without tags, every name once", () => {
    expect(
      parse({ local: { simulations: [{ name: "a" }, { name: "b", provider: "air" }] } }).local
        .simulations,
    ).toEqual([
      { name: "a", provider: "simspaceweaver", tags: {} },
      { name: "b", provider: "air", tags: {} },
    ]);
    expect(
      problems({ local: { simulations: [{ name: "b", provider: "air", tags: { team: "x" } }] } }),
    ).toEqual([
      { path: "local.simulations.0.tags", message: "NVIDIA Air simulations have no tags" },
    ]);
    expect(
      problems({ local: { simulations: [{ name: "a" }, { name: "a", provider: "air" }] } }),
    ).toEqual([
      {
        path: "local.simulations.1.name",
        message: "must be unique: simsnap identifies simulations by name, whatever their provider",
      },
    ]);
    expect(problems({ local: { simulations: [{ name: "a", provider: "gcp" }] } })[0]?.path).toBe(
      "local.simulations.0.provider",
    );
  });

  it("configures files sources in the destination's bucket by default, at least one", () => {
    const files = parse({
      providers: { files: { sources: [{ prefix: "training/runs", preset: "huggingface" }] } },
    }).providers.files;
    expect(files).toEqual({
      sources: [{ prefix: "training/runs", preset: "huggingface", temporaryNames: [] }],
    });
    expect(problems({ providers: { files: { sources: [] } } })).toEqual([
      {
        path: "providers.files.sources",
        message: "must list at least one source; leave files out otherwise",
      },
    ]);
    expect(
      problems({
        providers: { files: { bucket: "Bad_Bucket", sources: [{ prefix: "a", preset: "orbax" }] } },
      })[0]?.path,
    ).toBe("providers.files.bucket");
  });

  it.each([
    ["the destination prefix", { prefix: "simsnap" }, "simsnap"],
    ["a prefix above it", { prefix: "simsnap" }, "simsnap/runs"],
    ["a prefix below it", { prefix: "data/simsnap" }, "data"],
    ["an adopted prefix", { adoptPrefixes: ["legacy/snaps"] }, "legacy/snaps/runs"],
  ])(
    "refuses a source nesting with %s simsnap owns in the same bucket",
    (_what, destination, prefix) => {
      expect(
        problems({
          destination,
          providers: {
            files: {
              sources: [
                { prefix: "ok", preset: "orbax" },
                { prefix, preset: "orbax" },
              ],
            },
          },
        }),
      ).toEqual([
        {
          path: "providers.files.sources.1.prefix",
          message: expect.stringMatching(
            /^must not nest with .*, a prefix simsnap owns in the same bucket \(destination.prefix or adoptPrefixes\)/,
          ) as unknown as string,
        },
      ]);
    },
  );

  it("allows a source under simsnap's own prefix name in another bucket, or beside it", () => {
    expect(
      parse({
        destination: { bucket: "snapshots", prefix: "simsnap" },
        providers: {
          files: { bucket: "training", sources: [{ prefix: "simsnap/runs", preset: "orbax" }] },
        },
      }).providers.files?.bucket,
    ).toBe("training");
    expect(
      parse({ providers: { files: { sources: [{ prefix: "simsnap-runs", preset: "orbax" }] } } })
        .providers.files?.sources[0]?.prefix,
    ).toBe("simsnap-runs");
  });

  it("refuses a demo trainer writing under simsnap's prefix or into another source", () => {
    expect(
      problems({ local: { trainer: { prefix: "simsnap/runs", run: "r" } } }).map((p) => p.path),
    ).toEqual(["local.trainer.prefix"]);
    expect(
      problems({
        providers: { files: { sources: [{ prefix: "training", preset: "orbax" }] } },
        local: { trainer: { prefix: "training/runs", run: "r" } },
      }),
    ).toEqual([
      {
        path: "local.trainer.prefix",
        message:
          "must be a source's prefix or nest with none; it nests with the files source training",
      },
    ]);
    expect(problems({ local: { trainer: { prefix: "training/runs", run: "a/b" } } })[0]?.path).toBe(
      "local.trainer.run",
    );
  });

  it("refuses a demo simulation on the files provider: a tool writes those runs", () => {
    expect(problems({ local: { simulations: [{ name: "a", provider: "files" }] } })).toEqual([
      {
        path: "local.simulations.0.provider",
        message:
          "a files run is written by a training or HPC tool, not started by simsnap: configure providers.files.sources instead",
      },
    ]);
  });

  it("lets a schedule's selector pick by provider, naming only known ones", () => {
    const picked = parse({
      schedules: [
        { name: "weaver", expression: "rate(1 hour)", selector: { providers: ["simspaceweaver"] } },
      ],
    });
    expect(picked.schedules[0]?.selector).toEqual({ providers: ["simspaceweaver"] });
    expect(
      problems({
        schedules: [{ name: "x", expression: "rate(1 hour)", selector: { providers: ["gcp"] } }],
      })[0],
    ).toEqual({
      path: "schedules.0.selector.providers.0",
      message: "must be one of simspaceweaver, air, files",
    });
    expect(
      problems({
        schedules: [{ name: "x", expression: "rate(1 hour)", selector: { providers: [] } }],
      })[0]?.path,
    ).toBe("schedules.0.selector.providers");
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "simsnap-config-"));

  it("says which file is unreadable or not JSON", () => {
    expect(() => loadConfigFile(join(dir, "missing.json"))).toThrow(
      /Cannot read the config file .*missing\.json/,
    );
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ schedules: [] }");
    expect(() => loadConfigFile(broken)).toThrow(/broken\.json is not valid JSON/);
  });

  it("names the file and the field in a validation error", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(schedule({ timeZone: "Nowhere" })));
    expect(() => loadConfigFile(file)).toThrow(
      /Invalid config file .*bad\.json: schedules\.0\.timeZone: must be an IANA time zone/,
    );
  });
});

describe("configFilePath", () => {
  it("prefers the explicit path, then SIMSNAP_CONFIG, then simsnap.config.json", () => {
    expect(configFilePath("a.json", { SIMSNAP_CONFIG: "b.json" }, "/srv")).toBe("/srv/a.json");
    expect(configFilePath(undefined, { SIMSNAP_CONFIG: "b.json" }, "/srv")).toBe("/srv/b.json");
    expect(configFilePath(undefined, {}, "/srv")).toBe("/srv/simsnap.config.json");
    expect(configFilePath("/etc/simsnap.json", {}, "/srv")).toBe("/etc/simsnap.json");
  });
});
