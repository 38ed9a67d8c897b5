import { describe, expect, it } from "vitest";
import { SimsnapClient } from "../../../packages/client/src/client.ts";
import { sentPathRefusal } from "../../../lib/http/sent-path.ts";

describe("SimsnapClient and X-Simsnap-Path", () => {
  it("sends the path as it sent it, encoded, so a gateway that decodes it can be told", async () => {
    const sent: { url: string; header: string | null }[] = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      sent.push({ url: String(input), header: new Headers(init?.headers).get("x-simsnap-path") });
      return new Response(JSON.stringify({ id: "j-1" }), {
        status: 202,
        headers: { "content-type": "application/json" },
      });
    }) as typeof globalThis.fetch;
    const client = new SimsnapClient({ endpoint: "https://api.example.com/", fetch });

    await client.simulations.stop("What? 100%");

    const path = "/simulations/What%3F%20100%25/stop";
    expect(sent).toEqual([{ url: `https://api.example.com${path}`, header: path }]);
    // What an HTTP API hands the function for it (cut at the decoded "?") is refused.
    expect(sentPathRefusal("/simulations/What", path)).toBeDefined();
    expect(sentPathRefusal(path, path)).toBeUndefined();
  });
});
