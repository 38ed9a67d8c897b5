import { describe, expect, it } from "vitest";
import { resolveByPrefix } from "../../../cli/ids.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { SimsnapNotFoundError } from "../../../packages/client/src/errors.ts";

const IDS = [
  "5f0c2a91-0c7e-8a11-9b2c-000000000001",
  "5f0c99aa-0c7e-8a11-9b2c-000000000002",
  "ee0c2799-0c7e-8a11-9b2c-000000000003",
];

/** A catalog of records by id, counting how often it was scanned. */
function lookup() {
  const scans = { count: 0 };
  return {
    scans,
    what: "checkpoint",
    get: async (id: string) => {
      if (IDS.includes(id)) return { id };
      throw new SimsnapNotFoundError(`Checkpoint ${id} does not exist`, 404, "NotFound");
    },
    all: async function* () {
      scans.count += 1;
      yield* IDS.map((id) => ({ id }));
    },
    describe: (record: { id: string }) => `${record.id}  sim`,
  };
}

describe("ids given by a unique prefix", () => {
  it("takes a full id at once, without scanning", async () => {
    const catalog = lookup();
    expect(await resolveByPrefix(IDS[2]!, catalog)).toEqual({ id: IDS[2] });
    expect(catalog.scans.count).toBe(0);
  });

  it("takes the 8 characters the stack prints, and any unique prefix in any case", async () => {
    expect(await resolveByPrefix("ee0c2799", lookup())).toEqual({ id: IDS[2] });
    expect(await resolveByPrefix("5F0C2", lookup())).toEqual({ id: IDS[0] });
  });

  it("refuses a prefix several ids share, listing them (exit code 2)", async () => {
    const failure = resolveByPrefix("5f0c", lookup());
    await expect(failure).rejects.toBeInstanceOf(ValidationError);
    await expect(failure).rejects.toThrow(
      [
        "checkpoint id 5f0c is ambiguous: 2 checkpoints start with it; give more of the id:",
        `  ${IDS[0]}  sim`,
        `  ${IDS[1]}  sim`,
      ].join("\n"),
    );
  });

  it("answers a prefix nothing has with the API's own not-found", async () => {
    await expect(resolveByPrefix("abcdef", lookup())).rejects.toThrow(
      new SimsnapNotFoundError("Checkpoint abcdef does not exist", 404, "NotFound"),
    );
  });

  it("does not scan for prefixes shorter than 4 characters, or for a whole id not found", async () => {
    const catalog = lookup();
    await expect(resolveByPrefix("5f0", catalog)).rejects.toBeInstanceOf(SimsnapNotFoundError);
    const missing = "5f0c2a91-0c7e-8a11-9b2c-00000000000f";
    await expect(resolveByPrefix(missing, catalog)).rejects.toBeInstanceOf(SimsnapNotFoundError);
    expect(catalog.scans.count).toBe(0);
  });
});
