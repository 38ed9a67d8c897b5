import { describe, expect, it } from "vitest";
import { ConfigError, ConflictError, ProviderError } from "../../../../lib/domain/errors.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { locateSimulation } from "../../../../lib/usecases/catalog/locate-simulation.ts";
import { platformWorld } from "../../../support/platform-world.ts";

describe("the provider of a simulation", () => {
  it("is the one configured provider that knows it, or none", async () => {
    const world = platformWorld();

    expect((await locateSimulation("air-sim", world.providers))?.provider.name).toBe("platform");
    expect((await locateSimulation("sim-a", world.providers))?.provider.name).toBe("fake");
    expect(await locateSimulation("nowhere", world.providers)).toBeUndefined();
  });

  it("is never guessed: a name two providers know, or a provider that cannot answer, is an error", async () => {
    await expect(
      locateSimulation("sim-a", platformWorld({ "sim-a": "STOPPED" }).providers),
    ).rejects.toBeInstanceOf(ConflictError);

    const world = platformWorld();
    world.platform.failNext(
      "describeSimulation",
      new ProviderError("Unauthorized", "the Air token was refused", { status: 401 }),
    );
    await expect(locateSimulation("sim-a", world.providers)).rejects.toThrow("token");
  });

  it("comes from a directory that refuses unknown and duplicate names", () => {
    const world = platformWorld();

    expect(world.providers.byName("platform")).toBe(world.platform);
    expect(() => world.providers.byName("air")).toThrow(ConfigError);
    expect(() => directoryOf([world.platform, world.platform])).toThrow(ConfigError);
  });
});
