import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirClient } from "../../lib/adapters/air/client.ts";
import { AIR_CAPABILITIES, AirProvider } from "../../lib/adapters/air/provider.ts";
import { ProviderError } from "../../lib/domain/errors.ts";
import { throwawayName } from "../../lib/domain/verification.ts";
import { checkAirClone } from "../../lib/local/verify-tick.ts";
import { AIR_SCOPES, AIR_TIMED_STATES } from "../../lib/local/air/model.ts";
import {
  startAirServer,
  type AirRequestRecord,
  type AirServer,
} from "../../lib/local/air/server.ts";

const TOKEN = "full-token";
const NO_DELETE = "no-delete-token";

let air: AirServer;
let provider: AirProvider;
const requests: AirRequestRecord[] = [];

const adapter = (token: string) =>
  new AirProvider(new AirClient({ endpoint: air.endpoint, token: () => token, pageSize: 2 }));

beforeAll(async () => {
  air = await startAirServer({
    tokens: {
      [TOKEN]: [...AIR_SCOPES],
      [NO_DELETE]: AIR_SCOPES.filter((scope) => scope !== "air:simulation_delete"),
    },
    // Every state waits for `advance`, so each step is observed, never raced.
    delays: Object.fromEntries(AIR_TIMED_STATES.map((state) => [state, "manual"])),
    onRequest: (record) => requests.push(record),
    simulations: [
      { name: "source", checkpoints: [{ name: "nightly" }] },
      { name: "running", state: "ACTIVE", checkpoints: [{ name: "earlier" }] },
    ],
  });
  provider = adapter(TOKEN);
});

afterAll(async () => {
  await air?.close();
});

const idOf = (name: string): string => {
  const found = air.simulations().filter((simulation) => simulation.name === name);
  if (found.length !== 1) throw new Error(`${found.length} simulations named ${name}`);
  return (found[0] as { id: string }).id;
};

/** Advances `name` to the end of its path. */
function settle(name: string): void {
  for (let i = 0; i < 20; i++) {
    try {
      air.advance(idOf(name));
    } catch {
      return;
    }
  }
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

const deletes = () => requests.filter((r) => r.method === "DELETE");

describe("a restore test's throwaway clone on NVIDIA Air", () => {
  it("is cloned under its reserved name, stopped without a checkpoint, then deleted", async () => {
    expect(AIR_CAPABILITIES.restoreTest).toEqual({ evidence: "started" });
    const [nightly] = await provider.checkpoints.list("source");
    const name = throwawayName("job-1");
    expect(
      await provider.checkpoints.restore(nightly?.id ?? "", {
        simulation: "source",
        into: "new",
        name,
      }),
    ).toBe(name);
    settle(name);
    expect((await provider.describeSimulation(name)).status).toBe("STARTED");

    await provider.stopSimulation(name);
    settle(name);
    expect((await provider.describeSimulation(name)).status).toBe("STOPPED");
    // A purge: the clone holds only the copy Air made when cloning, no new checkpoint.
    expect((await provider.checkpoints.list(name)).map((c) => c.name)).toEqual(["nightly"]);

    const id = idOf(name);
    await provider.deleteSimulation(name);
    expect(await provider.describeSimulation(name)).toMatchObject({
      status: "DELETING",
      providerStatus: "DELETING",
    });
    expect(deletes()).toEqual([
      { method: "DELETE", path: `/api/v3/simulations/${id}/`, status: 204 },
    ]);
    air.advance(id);
    expect((await rejection(provider.describeSimulation(name))).code).toBe(
      "ResourceNotFoundException",
    );
    // The source and its checkpoint are untouched.
    expect((await provider.checkpoints.list("source")).map((c) => [c.name, c.state])).toEqual([
      ["nightly", "COMPLETE"],
    ]);
    expect((await provider.describeSimulation("source")).status).toBe("STOPPED");
  });

  it("refuses to delete any other simulation, before any request reaches Air", async () => {
    const before = deletes().length;
    for (const name of ["source", "simsnap-verify-XYZ", `${throwawayName("job-2")}-copy`]) {
      const refused = await rejection(provider.deleteSimulation(name));
      expect(refused, name).toMatchObject({ code: "UnsupportedOperation", status: 400 });
      expect(refused.message).toContain("its checkpoints would go with it");
    }
    expect(deletes().length).toBe(before);
    expect((await provider.describeSimulation("source")).status).toBe("STOPPED");
  });

  it("without the air:simulation_delete scope the delete is Forbidden, naming the scope", async () => {
    const [nightly] = await provider.checkpoints.list("source");
    const name = throwawayName("job-3");
    await provider.checkpoints.restore(nightly?.id ?? "", {
      simulation: "source",
      into: "new",
      name,
    });
    settle(name);
    await provider.stopSimulation(name);
    settle(name);
    const refused = await rejection(adapter(NO_DELETE).deleteSimulation(name));
    expect(refused).toMatchObject({ code: "Forbidden", status: 403 });
    expect(refused.message).toContain("air:simulation_delete");
    await provider.deleteSimulation(name);
    settle(name);
    expect(air.simulations().map((s) => s.name)).not.toContain(name);
  });

  it("cloning a running simulation is a ConflictException to wait out, and clones nothing", async () => {
    const [earlier] = await provider.checkpoints.list("running");
    const before = requests.length;
    const refused = await rejection(
      provider.checkpoints.restore(earlier?.id ?? "", {
        simulation: "running",
        into: "new",
        name: throwawayName("job-4"),
      }),
    );
    expect(refused).toMatchObject({ code: "ConflictException", retryable: false });
    expect(refused.message).toContain("running is ACTIVE");
    expect(requests.slice(before).map((r) => r.method)).toEqual(["GET"]);
    expect(air.simulations().map((s) => s.name)).toEqual(["source", "running"]);
  });
});

describe("the local demo's user check for an NVIDIA Air clone", () => {
  const env = (throwaway: string) => ({
    SIMSNAP_AIR_ENDPOINT: air.baseUrl,
    SIMSNAP_AIR_TOKEN_ENV: "TEST_AIR_TOKEN",
    TEST_AIR_TOKEN: TOKEN,
    SIMSNAP_VERIFY_THROWAWAY: throwaway,
  });

  it("passes a clone whose run started from the checkpoint Air copied onto it", async () => {
    const [nightly] = await provider.checkpoints.list("source");
    const name = throwawayName("job-5");
    await provider.checkpoints.restore(nightly?.id ?? "", {
      simulation: "source",
      into: "new",
      name,
    });
    settle(name);
    const result = await checkAirClone(env(name));
    expect(result.passed).toBe(true);
    expect(result.detail).toContain('"nightly"');
  });

  it("fails a clone that booted from scratch, and one that does not exist", async () => {
    const name = throwawayName("job-6");
    // `checkpoint: null`: Air clones without one, and the clone boots from scratch.
    const cloned = await fetch(`${air.baseUrl}simulations/clone/`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        simulation: idOf("source"),
        checkpoint: null,
        name,
        attempt_start: true,
      }),
    });
    expect(cloned.status).toBe(201);
    settle(name);
    expect(await checkAirClone(env(name))).toEqual({
      passed: false,
      detail:
        "its run started from no checkpoint: an initial boot, the checkpoint's state was not restored",
    });
    expect((await checkAirClone(env(throwawayName("never")))).passed).toBe(false);
  });
});
