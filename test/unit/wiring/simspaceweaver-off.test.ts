import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { turnedOffSimSpaceWeaver } from "../../../lib/adapters/simspaceweaver/turned-off.ts";
import { providerCapabilities } from "../../../lib/wiring/capabilities.ts";
import { providerDirectory, simulationProvider } from "../../../lib/wiring/provider.ts";

// A stand-in for SimSpace Weaver's endpoint that counts what reaches it: with the switch off,
// nothing may.
let server: Server;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(200, { "content-type": "application/json" }).end('{"Simulations":[]}');
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    SIMSNAP_TABLE: "catalog",
    SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
    SIMSNAP_SIMSPACEWEAVER_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // As the stack sets it for every function when the config turns SimSpace Weaver off.
    SIMSNAP_SIMSPACEWEAVER_ENABLED: "false",
  });
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
});

describe("SimSpace Weaver turned off (SIMSNAP_SIMSPACEWEAVER_ENABLED=false)", () => {
  it("lists no simulation and calls nothing where every tick and GET /simulations list", async () => {
    for (const name of ["plan-snapshots", "api"] as const) {
      const weaver = providerDirectory(name).byName("simspaceweaver");
      expect(weaver).toBe(turnedOffSimSpaceWeaver);
      await expect(weaver.listSimulations()).resolves.toEqual([]);
    }
    expect(requests).toEqual([]);
  });

  it("refuses every operation on a simulation, naming the switch, without a request", async () => {
    const weaver = simulationProvider("take-snapshot");
    await expect(
      weaver.createSnapshot("ocean", { bucket: "snapshots", prefix: "simsnap" }),
    ).rejects.toMatchObject({
      code: "UnsupportedOperation",
      message: expect.stringContaining("config providers.simspaceweaver.enabled"),
    });
    await expect(simulationProvider("api").stopSimulation("ocean")).rejects.toMatchObject({
      code: "UnsupportedOperation",
    });
    // Describing answers not found, so locating a name passes on to the platforms that are on.
    await expect(
      providerDirectory("request-stop").byName("simspaceweaver").describeSimulation("ocean"),
    ).rejects.toMatchObject({ code: "ResourceNotFoundException" });
    expect(requests).toEqual([]);
  });

  it("still resolves its checkpoint records, archivable, but neither restorable nor restore-tested", () => {
    const weaver = providerCapabilities("plan-verifications").byName("simspaceweaver");
    expect(weaver.capabilities).toMatchObject({
      checkpointStorage: "s3",
      archivable: true,
      snapshotWhileRunning: false,
      restoreInto: { newSimulation: false, sameSimulation: false, prefix: false },
    });
    expect(weaver.capabilities.restoreTest).toBeUndefined();
    expect(providerCapabilities("archive-checkpoint").byName("simspaceweaver").turnedOff).toMatch(
      /turned off/,
    );
  });
});
