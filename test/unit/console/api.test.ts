import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../../console/src/api.ts";

let base = "";
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((request, response) => {
  seen.push({ url: request.url ?? "", headers: request.headers });
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ id: "x", state: "COMPLETE" }));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the console's API calls", () => {
  it("repeat the path as sent, still encoded, so a gateway that decodes it is refused, not obeyed", async () => {
    const api = createApi({ base });
    await api.undelete("ckpt?with/odd%chars");
    const [request] = seen.splice(0);
    expect(request?.url).toBe("/checkpoints/ckpt%3Fwith%2Fodd%25chars/undelete");
    expect(request?.headers["x-simsnap-path"]).toBe(
      "/checkpoints/ckpt%3Fwith%2Fodd%25chars/undelete",
    );
  });
});
