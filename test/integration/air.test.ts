import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirClient } from "../../lib/adapters/air/client.ts";
import { AirProvider } from "../../lib/adapters/air/provider.ts";
import { ProviderError } from "../../lib/domain/errors.ts";
import {
  startAirServer,
  type AirRequestRecord,
  type AirScope,
  type AirServer,
} from "../../lib/local/air/server.ts";
import { AIR_TIMED_STATES } from "../../lib/local/air/model.ts";
import type { PlatformCheckpoint, SimulationDetails } from "../../lib/ports/simulation-provider.ts";

const ALL_SCOPES: AirScope[] = [
  "air:simulation_read",
  "air:simulation_edit",
  "air:simulation_start_stop",
  "air:simulation_create",
];
const TOKEN = "full-token";
const READ_ONLY = "read-only-token";
const NO_CREATE = "no-create-token";
const MAX_CHECKPOINTS = 3;
const day = (n: number) => new Date(Date.UTC(2026, 10, n, 9));

let air: AirServer;
let provider: AirProvider;
let client: AirClient;
const requests: AirRequestRecord[] = [];

/** The adapter as a function would build it, with pages of 2 so every listing crosses pages. */
function adapterWith(token: string | undefined): { client: AirClient; provider: AirProvider } {
  const adapterClient = new AirClient({
    endpoint: air.endpoint,
    token: () => token,
    tokenSource: "the test's token",
    pageSize: 2,
  });
  return { client: adapterClient, provider: new AirProvider(adapterClient) };
}

beforeAll(async () => {
  air = await startAirServer({
    tokens: {
      [TOKEN]: ALL_SCOPES,
      [READ_ONLY]: ["air:simulation_read"],
      [NO_CREATE]: ["air:simulation_read", "air:simulation_edit", "air:simulation_start_stop"],
    },
    // Every state waits for `advance`, so each step of a path is observed, never raced.
    delays: Object.fromEntries(AIR_TIMED_STATES.map((state) => [state, "manual"])),
    maxCheckpointsPerSimulation: MAX_CHECKPOINTS,
    onRequest: (record) => requests.push(record),
    simulations: [
      { name: "lab", state: "ACTIVE", checkpoints: [{ name: "first", created: day(1) }] },
      {
        name: "archive",
        checkpoints: [1, 2, 3, 4, 5, 6, 7].map((n) => ({ name: `day ${n}`, created: day(n) })),
      },
      {
        name: "crowded",
        state: "ACTIVE",
        checkpoints: [
          { name: "keeper", favorite: true, created: day(1) },
          { name: "oldest plain", created: day(2) },
          { name: "newer plain", created: day(3) },
        ],
      },
      { name: "twin" },
      { name: "twin" },
    ],
  });
  ({ client, provider } = adapterWith(TOKEN));
});

afterAll(async () => {
  await air?.close();
});

const idOf = (name: string): string => {
  const found = air.simulations().filter((simulation) => simulation.name === name);
  if (found.length !== 1) throw new Error(`${found.length} simulations named ${name}`);
  return (found[0] as { id: string }).id;
};

/** Moves `name` one state along its path and answers what the adapter then describes. */
async function step(name: string): Promise<SimulationDetails> {
  air.advance(idOf(name));
  return provider.describeSimulation(name);
}

/** Advances `name` to the end of its path, recording the Air states the adapter saw. */
async function finish(name: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const details = await provider.describeSimulation(name);
    if (seen.at(-1) !== details.providerStatus) seen.push(details.providerStatus ?? "?");
    try {
      air.advance(idOf(name));
    } catch {
      return seen; // the path is over: `advance` refuses a simulation that is not moving
    }
  }
  throw new Error(`${name} never settled; seen ${seen.join(" → ")}`);
}

const rejection = async (promise: Promise<unknown>): Promise<ProviderError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error("expected a rejection");
};

const byName = (checkpoints: PlatformCheckpoint[], name: string): PlatformCheckpoint => {
  const found = checkpoints.find((checkpoint) => checkpoint.name === name);
  if (!found) throw new Error(`no checkpoint ${name} in ${checkpoints.map((c) => c.name)}`);
  return found;
};

/** What the server itself holds for a checkpoint, read past the adapter. */
async function serverView(id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${air.baseUrl}simulations/runs/checkpoints/${id}/`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as Record<string, unknown>;
}

describe("listing, across pages", () => {
  it("lists every simulation with its status and Air's own state", async () => {
    const before = requests.length;
    const simulations = await provider.listSimulations();
    expect(simulations.map((s) => [s.name, s.status, s.providerStatus])).toEqual([
      ["lab", "STARTED", "ACTIVE"],
      ["archive", "STOPPED", "INACTIVE"],
      ["crowded", "STARTED", "ACTIVE"],
      ["twin", "STOPPED", "INACTIVE"],
      ["twin", "STOPPED", "INACTIVE"],
    ]);
    expect(simulations.every((s) => s.creationTime instanceof Date)).toBe(true);
    expect(requests.slice(before).map((r) => r.path)).toEqual(
      Array.from({ length: 3 }, () => "/api/v3/simulations/"),
    );
  });

  it("lists a simulation's seven checkpoints oldest first, in four pages of two", async () => {
    const before = requests.length;
    const checkpoints = await provider.checkpoints.list("archive");
    expect(checkpoints.map((c) => c.name)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `day ${n}`));
    expect(checkpoints.every((c) => c.simulation === "archive" && c.state === "COMPLETE")).toBe(
      true,
    );
    const listings = requests
      .slice(before)
      .filter((r) => r.path === "/api/v3/simulations/runs/checkpoints/");
    expect(listings).toHaveLength(4);
  });

  it("refuses a name two Air simulations share", async () => {
    const error = await rejection(provider.describeSimulation("twin"));
    expect(error.code).toBe("AmbiguousSimulationName");
    expect(error.message).toContain(air.simulations().filter((s) => s.name === "twin")[0]?.id);
  });
});

describe("state paths", () => {
  it("stopWithCheckpoint: ACTIVE → … → SAVING (PENDING) → INACTIVE (COMPLETE)", async () => {
    await provider.stopWithCheckpoint("lab");
    expect(await provider.describeSimulation("lab")).toMatchObject({
      status: "STOPPING",
      providerStatus: "PREPARE_SHUTDOWN",
    });
    expect(await step("lab")).toMatchObject({
      status: "STOPPING",
      providerStatus: "SHUTTING_DOWN",
    });
    expect(await step("lab")).toMatchObject({ status: "STOPPING", providerStatus: "SAVING" });
    const saving = await provider.checkpoints.list("lab");
    expect(saving.map((c) => [c.name, c.state])).toEqual([
      ["first", "COMPLETE"],
      [expect.stringMatching(/^Checkpoint /), "PENDING"],
    ]);
    expect(await step("lab")).toMatchObject({ status: "STOPPED", providerStatus: "INACTIVE" });
    const saved = saving[1] as PlatformCheckpoint;
    expect(await provider.checkpoints.get(saved.id)).toMatchObject({
      id: saved.id,
      simulation: "lab",
      state: "COMPLETE",
    });
  });

  it("restore into the same simulation starts it from the chosen checkpoint", async () => {
    const first = byName(await provider.checkpoints.list("lab"), "first");
    expect(await provider.checkpoints.restore(first.id, { simulation: "lab", into: "same" })).toBe(
      "lab",
    );
    expect(await finish("lab")).toEqual([
      "REQUESTING",
      "PROVISIONING",
      "PREPARE_BOOT",
      "BOOTING",
      "ACTIVE",
    ]);
    expect((await provider.describeSimulation("lab")).status).toBe("STARTED");
    const runs = await fetch(`${air.baseUrl}simulations/runs/?simulation=${idOf("lab")}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { results } = (await runs.json()) as { results: { started_from: string | null }[] };
    expect(results.at(-1)?.started_from).toBe(first.id);
  });

  it("stopSimulation purges: ACTIVE → PREPARE_PURGE → PURGING → INACTIVE, no checkpoint", async () => {
    const before = await provider.checkpoints.list("lab");
    await provider.stopSimulation("lab");
    expect(await finish("lab")).toEqual(["PREPARE_PURGE", "PURGING", "INACTIVE"]);
    expect(await provider.checkpoints.list("lab")).toEqual(before);
  });

  it("restore into a new simulation clones, starts the clone and answers its name", async () => {
    const first = byName(await provider.checkpoints.list("lab"), "first");
    const name = await provider.checkpoints.restore(first.id, { simulation: "lab", into: "new" });
    expect(name).toBe(`lab-${first.id.replace(/-/g, "").slice(0, 8)}`);
    // INACTIVE between cloning and starting may pass without a visible step.
    const seen = await finish(name);
    expect(seen[0]).toBe("CLONING");
    expect(seen.slice(-5)).toEqual([
      "REQUESTING",
      "PROVISIONING",
      "PREPARE_BOOT",
      "BOOTING",
      "ACTIVE",
    ]);
    expect((await provider.describeSimulation(name)).status).toBe("STARTED");
    expect((await provider.describeSimulation("lab")).status).toBe("STOPPED");
    // The same restore again finds its clone's name taken rather than making a second one.
    const again = await rejection(
      provider.checkpoints.restore(first.id, { simulation: "lab", into: "new" }),
    );
    expect(again.code).toBe("SimulationNameTaken");
  });

  it("Air's refusal to start a simulation that is not INACTIVE comes back as its 400", async () => {
    const error = await rejection(provider.startSimulation({ name: "crowded", roleArn: "-" }));
    expect(error).toMatchObject({ code: "ValidationException", status: 400 });
    expect(error.message).toContain("only an INACTIVE simulation can be started");
  });
});

describe("checkpoints Air deletes itself, and changes made through simsnap", () => {
  it("a checkpoint Air deleted on its own reads as DELETED", async () => {
    const seventh = byName(await provider.checkpoints.list("archive"), "day 7");
    air.deleteCheckpointByAir(seventh.id);
    expect(byName(await provider.checkpoints.list("archive"), "day 7").state).toBe("DELETED");
    expect((await provider.checkpoints.get(seventh.id))?.state).toBe("DELETED");
  });

  it("making room on shutdown, Air deletes the oldest non-favorite, keeping the favorite", async () => {
    await provider.stopWithCheckpoint("crowded");
    await finish("crowded");
    const checkpoints = await provider.checkpoints.list("crowded");
    expect(checkpoints.map((c) => [c.name, c.state, c.favorite])).toEqual([
      ["keeper", "COMPLETE", true],
      ["oldest plain", "DELETED", false],
      ["newer plain", "COMPLETE", false],
      [expect.stringMatching(/^Checkpoint /), "COMPLETE", false],
    ]);
  });

  it("a rename and a favorite made through the adapter are what the server holds", async () => {
    const third = byName(await provider.checkpoints.list("archive"), "day 3");
    const updated = await provider.checkpoints.update(third.id, {
      name: "before upgrade",
      favorite: true,
    });
    expect(updated).toMatchObject({ id: third.id, name: "before upgrade", favorite: true });
    expect(updated.simulation).toBe("archive");
    expect(await serverView(third.id)).toMatchObject({ name: "before upgrade", favorite: true });
    await provider.checkpoints.update(third.id, { favorite: false });
    expect(await serverView(third.id)).toMatchObject({ name: "before upgrade", favorite: false });
  });

  it("deleting a COMPLETE checkpoint makes it DELETED; deleting it again is Air's 400", async () => {
    const second = byName(await provider.checkpoints.list("archive"), "day 2");
    await provider.checkpoints.delete(second.id);
    expect(await serverView(second.id)).toMatchObject({ state: "DELETED" });
    const again = await rejection(provider.checkpoints.delete(second.id));
    expect(again).toMatchObject({ code: "ValidationException", status: 400, retryable: false });
  });
});

describe("auth failures and unknown ids", () => {
  it("an unknown token is Unauthorized, telling where the token comes from", async () => {
    const error = await rejection(adapterWith("revoked").provider.listSimulations());
    expect(error).toMatchObject({ code: "Unauthorized", status: 401, retryable: false });
    expect(error.message).toContain("Invalid token.");
    expect(error.message).toContain("the test's token");
  });

  it("no token at all is Unauthorized before any request", async () => {
    const before = requests.length;
    const error = await rejection(adapterWith(undefined).provider.listSimulations());
    expect(error.code).toBe("Unauthorized");
    expect(requests.length).toBe(before);
  });

  it("a token without the endpoint's scope is Forbidden, naming the scope", async () => {
    const archive = await provider.checkpoints.list("archive");
    const readOnly = adapterWith(READ_ONLY).provider;
    const edit = await rejection(
      readOnly.checkpoints.update((archive[0] as PlatformCheckpoint).id, { favorite: true }),
    );
    expect(edit).toMatchObject({ code: "Forbidden", status: 403, retryable: false });
    expect(edit.message).toContain("air:simulation_edit");
    const stop = await rejection(readOnly.stopWithCheckpoint("crowded"));
    expect(stop.message).toContain("air:simulation_start_stop");
    const first = byName(await provider.checkpoints.list("lab"), "first");
    const clone = await rejection(
      adapterWith(NO_CREATE).provider.checkpoints.restore(first.id, {
        simulation: "lab",
        into: "new",
        name: "lab-copy",
      }),
    );
    expect(clone).toMatchObject({ code: "Forbidden" });
    expect(clone.message).toContain("air:simulation_create");
  });

  it("unknown ids and names: ResourceNotFoundException, or undefined from checkpoints.get", async () => {
    const unknown = randomUUID();
    expect(await provider.checkpoints.get(unknown)).toBeUndefined();
    expect(await rejection(provider.checkpoints.delete(unknown))).toMatchObject({
      code: "ResourceNotFoundException",
      status: 404,
    });
    expect(await rejection(client.getSimulation(unknown))).toMatchObject({
      code: "ResourceNotFoundException",
    });
    expect((await rejection(provider.describeSimulation("ghost"))).code).toBe(
      "ResourceNotFoundException",
    );
  });
});
