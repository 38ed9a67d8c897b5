import { beforeAll, describe, expect, it } from "vitest";
import { filesProvider } from "../../../lib/adapters/files/provider.ts";
import { apiRoutes } from "../../../lib/http/api-routes.ts";
import { httpApi } from "../../../lib/http/router.ts";
import { logger } from "../../../lib/observability/logger.ts";
import { directoryOf } from "../../../lib/ports/simulation-provider.ts";
import { archiveCheckpoint } from "../../../lib/usecases/archive/archive-checkpoint.ts";
import { apiEvent as event } from "../../support/api-event.ts";
import { apiWorld } from "../../support/api-world.ts";
import { archiveSettings } from "../../support/archive-world.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";
import { fileOwnership, filesRecord, writeHfCheckpoint } from "../../support/files-world.ts";

beforeAll(() => logger.setLogLevel("SILENT"));

async function setup() {
  const base = apiWorld();
  const world = {
    ...base,
    providers: directoryOf([...base.providers.all(), filesProvider]),
    files: fileOwnership(),
    fileObjects: base.storage,
    archive: archiveSettings,
  };
  const key = await writeHfCheckpoint(world.storage, { files: 3 });
  await world.checkpoints.create(filesRecord(key, { id: "f1", createdAt: "2026-11-30T10:00:00Z" }));
  await world.checkpoints.create(checkpoint({ id: "c1" }));
  await archiveCheckpoint({ checkpointId: "f1" }, world);
  const handler = httpApi(apiRoutes(world));
  const call = async (body: unknown, id = "f1") => {
    const result = await handler(event("POST", `/checkpoints/${id}/restore`, { body }));
    return {
      status: result.statusCode,
      body: JSON.parse(result.body ?? "null") as {
        restore?: unknown;
        error?: { details: { path: string; message: string }[] };
      },
    };
  };
  return { world, call };
}

describe("POST /checkpoints/{id}/restore of a files checkpoint", () => {
  it("accepts target.prefix: 202 with a restore job into that prefix", async () => {
    const { call } = await setup();
    const started = await call({ target: { prefix: "runs/restored/exp7" } });
    expect(started).toMatchObject({
      status: 202,
      body: { restore: { target: "exp7", phase: "locating", prefix: "runs/restored/exp7/" } },
    });
  });

  it.each([
    [{ target: { prefix: "runs/restored", bucket: "x" } }, "f1", "target"],
    [{ target: { prefix: 7 } }, "f1", "target.prefix"],
    [{ target: { prefix: "elsewhere/x" } }, "f1", "target.prefix"],
    [{}, "f1", "target.prefix"],
    [{ target: { prefix: "runs/restored" } }, "c1", "target"],
  ])("answers 400 naming the field for %j of %s", async (body, id, path) => {
    const { call } = await setup();
    const refused = await call(body, id);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.details.map((d) => d.path)).toEqual([path]);
  });
});
