import { describe, expect, it } from "vitest";
import { loadSettings } from "../../../lib/settings.ts";
import { ConfigError } from "../../../lib/domain/errors.ts";

const base = { SIMSNAP_TABLE: "catalog", SIMSNAP_SNAPSHOT_BUCKET: "snapshots" };

describe("archive and restore settings", () => {
  it("are optional, so functions that neither archive nor restore need none of them", () => {
    const settings = loadSettings(base);
    expect(settings.SIMSNAP_ARCHIVE_BUCKET).toBeUndefined();
    expect(settings.SIMSNAP_ARCHIVE_RETENTION).toBeUndefined();
    expect(settings.SIMSNAP_SIMULATION_ROLE_ARN).toBeUndefined();
    expect(settings).toMatchObject({
      SIMSNAP_ARCHIVE_STORAGE_CLASS: "STANDARD_IA",
      SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM: "CRC64NVME",
      SIMSNAP_ARCHIVE_MULTIPART_THRESHOLD_MB: 5120,
      SIMSNAP_ARCHIVE_PART_SIZE_MB: 512,
      SIMSNAP_RESTORE_DEADLINE_SECONDS: 172_800,
    });
  });

  it("parse the archive retention policy as JSON", () => {
    const settings = loadSettings({
      ...base,
      SIMSNAP_ARCHIVE_RETENTION: '{"default":{"keepMonthly":24}}',
    });
    expect(settings.SIMSNAP_ARCHIVE_RETENTION?.default).toMatchObject({ keepMonthly: 24 });
  });

  it("fail at cold start naming the variable and the rule", () => {
    const bad = {
      SIMSNAP_ARCHIVE_STORAGE_CLASS: "REDUCED_REDUNDANCY",
      SIMSNAP_ARCHIVE_PART_SIZE_MB: "4",
      SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM: "MD5",
      SIMSNAP_ARCHIVE_RETENTION: "{not json",
      SIMSNAP_SIMULATION_ROLE_ARN: "simulation-role",
    };
    let error: unknown;
    try {
      loadSettings({ ...base, ...bad });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/SIMSNAP_ARCHIVE_STORAGE_CLASS: must be one of STANDARD, STANDARD_IA/);
    expect(message).toMatch(/SIMSNAP_ARCHIVE_PART_SIZE_MB: must be at least 5 \(MiB/);
    expect(message).toMatch(/SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM: must be CRC64NVME or SHA256/);
    expect(message).toMatch(/SIMSNAP_ARCHIVE_RETENTION: must be JSON/);
    expect(message).toMatch(/SIMSNAP_SIMULATION_ROLE_ARN: must be an IAM role ARN/);
  });
});
