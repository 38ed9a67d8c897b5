import { describeCatalogContract } from "../../support/catalog-contract.ts";
import { MemoryCheckpointStore, MemoryJobStore } from "../../support/memory.ts";

describeCatalogContract("in-memory stores", async () => ({
  checkpoints: new MemoryCheckpointStore(),
  jobs: new MemoryJobStore(),
}));
