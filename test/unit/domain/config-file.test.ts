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
    // NVIDIA Air is the local demo's only: a deployment of the sample configures no Air.
    expect(config.providers).toEqual({});
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
      message: "must be one of simspaceweaver, air",
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
