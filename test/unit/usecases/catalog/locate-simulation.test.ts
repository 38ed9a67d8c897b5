import { describe, expect, it } from "vitest";
import { ConfigError, ConflictError, ProviderError } from "../../../../lib/domain/errors.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { locateSimulation } from "../../../../lib/usecases/catalog/locate-simulation.ts";
import { simSpaceWeaverNameRefusal } from "../../../../lib/adapters/simspaceweaver/provider.ts";
import { SimSpaceWeaverNameSchema } from "../../../../lib/domain/names.ts";
import { parseInput } from "../../../../lib/domain/validation.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
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

  it("skips a provider whose platform cannot have the name, which its own rule would refuse", async () => {
    /** SimSpace Weaver-like: refuses a name outside its rule at its boundary, as the real one does. */
    class WeaverNamed extends FakeProvider {
      readonly describedNames: string[] = [];
      simulationNameRefusal = simSpaceWeaverNameRefusal;
      override async describeSimulation(name: string) {
        this.describedNames.push(name);
        parseInput(SimSpaceWeaverNameSchema, name, "SimSpace Weaver simulation name");
        return super.describeSimulation(name);
      }
    }
    const world = platformWorld({ "My First Simulation": "STARTED", "東京 🌊": "STOPPED" });
    const weaver = new WeaverNamed({ "sim-a": "STARTED" });
    const providers = directoryOf([weaver, world.platform]);

    expect((await locateSimulation("My First Simulation", providers))?.provider).toBe(
      world.platform,
    );
    expect((await locateSimulation("東京 🌊", providers))?.details.status).toBe("STOPPED");
    expect(await locateSimulation("Nobody Here", providers)).toBeUndefined();
    expect((await locateSimulation("sim-a", providers))?.provider).toBe(weaver);
    expect(weaver.describedNames).toEqual(["sim-a"]);
  });

  it("comes from a directory that refuses unknown and duplicate names", () => {
    const world = platformWorld();

    expect(world.providers.byName("platform")).toBe(world.platform);
    expect(() => world.providers.byName("air")).toThrow(ConfigError);
    expect(() => directoryOf([world.platform, world.platform])).toThrow(ConfigError);
  });
});
