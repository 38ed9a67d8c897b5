import { describe, expect, it } from "vitest";
import { updateRunningJob } from "../../../../lib/domain/job.ts";
import { saveIfCurrent } from "../../../../lib/usecases/jobs/save-if-current.ts";
import { job } from "../../../support/checkpoint-factory.ts";
import { MemoryJobStore } from "../../../support/memory.ts";

describe("saveIfCurrent", () => {
  it("saves the job a step moved on", async () => {
    const jobs = new MemoryJobStore();
    const started = job();
    await jobs.create(started);
    const next = updateRunningJob(started, { checks: 1 });
    expect(await saveIfCurrent(jobs, next)).toBe(true);
    expect((await jobs.get(started.id))?.checks).toBe(1);
  });

  it("is false, saving nothing, when someone moved the job on first", async () => {
    const jobs = new MemoryJobStore();
    const started = job();
    await jobs.create(started);
    await jobs.save(updateRunningJob(started, { checks: 1 }));
    expect(await saveIfCurrent(jobs, updateRunningJob(started, { checks: 2 }))).toBe(false);
    expect((await jobs.get(started.id))?.checks).toBe(1);
  });

  it("passes any other failure on", async () => {
    const failing = { save: () => Promise.reject(new Error("table gone")) };
    await expect(saveIfCurrent(failing, job())).rejects.toThrow("table gone");
  });
});
