import { afterEach, describe, expect, it } from "vitest";
import { AirClient } from "../../../../lib/adapters/air/client.ts";
import { AirProvider } from "../../../../lib/adapters/air/provider.ts";
import { ProviderError, ValidationError } from "../../../../lib/domain/errors.ts";
import { startHttpStub, type HttpStub, type StubRequest } from "../../../support/http-stub.ts";

interface Sim {
  id: string;
  name: string;
  state: string;
}

const CREATED = "2026-11-30T08:00:00Z";

let stub: HttpStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/**
 * Just enough of Air for the provider's own decisions (name resolution, what it sends); the
 * state paths are tested against the local Air server in test/integration.
 */
async function providerOn(simulations: Sim[]): Promise<{ provider: AirProvider; stub: HttpStub }> {
  const page = (results: unknown[]) => ({ json: { count: results.length, next: null, results } });
  stub = await startHttpStub((request: StubRequest) => {
    const url = new URL(request.url, "http://stub");
    const path = url.pathname.replace("/api/v3/", "");
    if (path === "simulations/") {
      const name = url.searchParams.get("name");
      // Loose on purpose (a substring, as `search` would be): the provider must match exactly.
      return page(simulations.filter((s) => name === null || s.name.includes(name)));
    }
    if (path === "simulations/clone/") {
      const body = request.body as { name: string };
      return { status: 201, json: { id: "s-new", name: body.name, state: "CLONING" } };
    }
    if (path === "simulations/runs/checkpoints/missing/") {
      return { status: 404, json: { detail: "Not found." } };
    }
    if (path.startsWith("simulations/runs/checkpoints/")) {
      return {
        json: {
          id: "c1",
          run: "r1",
          state: "COMPLETE",
          created: CREATED,
          modified: CREATED,
          name: "before upgrade",
          favorite: true,
        },
      };
    }
    if (path === "simulations/runs/r1/") return { json: { id: "r1", simulation: "s1" } };
    const byId = simulations.find((s) => path === `simulations/${s.id}/`);
    if (byId) return { json: byId };
    return { json: {} };
  });
  const client = new AirClient({ endpoint: stub.url, token: () => "t" });
  return { provider: new AirProvider(client), stub };
}

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

describe("AirProvider names", () => {
  it("describes a simulation by exact name, even if the server's filter were loose", async () => {
    const { provider } = await providerOn([
      { id: "s1", name: "lab", state: "SAVING" },
      { id: "s2", name: "lab-2", state: "ACTIVE" },
    ]);
    expect(await provider.describeSimulation("lab")).toEqual({
      name: "lab",
      status: "STOPPING",
      providerStatus: "SAVING",
    });
  });

  it("refuses a name several Air simulations share, naming their ids", async () => {
    const { provider, stub } = await providerOn([
      { id: "s1", name: "lab", state: "ACTIVE" },
      { id: "s9", name: "lab", state: "INACTIVE" },
    ]);
    const error = await rejection(provider.stopWithCheckpoint("lab"));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: "AmbiguousSimulationName", retryable: false });
    expect((error as Error).message).toContain("s1, s9");
    expect(stub.requests.some((r) => r.method === "PATCH")).toBe(false);
  });

  it("an unknown name is ResourceNotFoundException", async () => {
    const { provider } = await providerOn([]);
    expect(await rejection(provider.describeSimulation("ghost"))).toMatchObject({
      code: "ResourceNotFoundException",
      status: 404,
    });
  });

  it("a name Air could not hold is a ValidationError before any call", async () => {
    const { provider, stub } = await providerOn([]);
    expect(await rejection(provider.describeSimulation("x".repeat(129)))).toBeInstanceOf(
      ValidationError,
    );
    expect(stub.requests).toEqual([]);
  });
});

describe("AirProvider checkpoints", () => {
  it("reads a checkpoint by id with its simulation's name, through its run", async () => {
    const { provider } = await providerOn([{ id: "s1", name: "lab", state: "INACTIVE" }]);
    expect(await provider.checkpoints.get("c1")).toEqual({
      id: "c1",
      simulation: "lab",
      run: "r1",
      state: "COMPLETE",
      name: "before upgrade",
      favorite: true,
      created: new Date(CREATED),
      modified: new Date(CREATED),
    });
    expect(await provider.checkpoints.get("missing")).toBeUndefined();
  });

  it("sends only name and favorite, and refuses any other change", async () => {
    const { provider, stub } = await providerOn([{ id: "s1", name: "lab", state: "INACTIVE" }]);
    await provider.checkpoints.update("c1", { favorite: true });
    expect(stub.requests[0]?.body).toEqual({ favorite: true });
    const error = await rejection(
      provider.checkpoints.update("c1", { state: "DELETED" } as unknown as { name: string }),
    );
    expect(error).toBeInstanceOf(ValidationError);
  });

  it("clones under the given name, or refuses a name already taken", async () => {
    const { provider, stub } = await providerOn([
      { id: "s1", name: "lab", state: "INACTIVE" },
      { id: "s2", name: "taken", state: "INACTIVE" },
    ]);
    expect(
      await provider.checkpoints.restore("c1", { simulation: "lab", into: "new", name: "fresh" }),
    ).toBe("fresh");
    expect(stub.requests.at(-1)?.body).toEqual({
      simulation: "s1",
      checkpoint: "c1",
      name: "fresh",
      attempt_start: true,
    });
    const error = await rejection(
      provider.checkpoints.restore("c1", { simulation: "lab", into: "new", name: "taken" }),
    );
    expect(error).toMatchObject({ code: "SimulationNameTaken", status: 409 });
  });
});

describe("AirProvider unsupported operations", () => {
  it("refuses what capabilities say Air cannot do, without calling Air", async () => {
    const { provider, stub } = await providerOn([{ id: "s1", name: "lab", state: "ACTIVE" }]);
    const attempts = [
      provider.createSnapshot("lab", { bucket: "b", prefix: "" }),
      provider.listTags("arn"),
      provider.deleteSimulation("lab"),
      provider.startSimulation({
        name: "lab",
        roleArn: "arn:aws:iam::1:role/r",
        snapshot: { bucket: "b", key: "k" },
      }),
    ];
    for (const attempt of attempts) {
      expect(await rejection(attempt)).toMatchObject({
        code: "UnsupportedOperation",
        status: 400,
        retryable: false,
      });
    }
    expect(stub.requests).toEqual([]);
  });
});
