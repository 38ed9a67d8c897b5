import { Agent, request, type ClientRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { startLocalStack } from "../support/local-stack.ts";

/** A finished GET through the keep-alive agent: its socket stays open, idle, in the agent's pool. */
function idleGet(agent: Agent, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      response.resume();
      response.on("end", resolve);
    })
      .on("error", reject)
      .end();
  });
}

/**
 * A request whose body is still coming (10 of the 1000 bytes it announced), so the server is in
 * the middle of it: an active connection, which a plain `server.close()` waits for forever.
 */
function activeRequest(agent: Agent, url: string): ClientRequest {
  const pending = request(url, {
    agent,
    method: "PUT",
    headers: { "content-type": "application/json", "content-length": "1000" },
  });
  pending.on("error", () => undefined);
  pending.write("0123456789");
  return pending;
}

describe("the local stack's shutdown", () => {
  it("ends while clients hold idle and active keep-alive connections to every embedded server", async () => {
    const stack = await startLocalStack({
      config: { airDemo: false },
      file: { local: { simulations: [{ name: "alpha" }, { name: "air-lab", provider: "air" }] } },
    });
    const { info } = stack;
    const urls = {
      api: `${info.apiEndpoint}/healthz`,
      s3: `${info.endpoints.s3}/`,
      dynamodb: `${info.endpoints.dynamodb}/`,
      sqs: `${info.endpoints.sqs}/`,
      simulator: `${info.endpoints.simulator}/`,
      eventBridge: `${info.endpoints.eventBridge}/`,
      air: info.air?.server.baseUrl ?? "",
    };
    expect(urls.air).not.toBe("");
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    for (const url of Object.values(urls)) await idleGet(agent, url);
    // An object upload whose body never ends keeps s3rver reading; the others read every body.
    const active = Object.values({
      ...urls,
      s3: `${info.endpoints.s3}/simsnap-snapshots/held-open`,
    }).map((url) => activeRequest(agent, url));
    // Let each server see its request's headers, so the connections are active, not just open.
    await new Promise((resolve) => setTimeout(resolve, 300));

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      stack.stop().then(() => "stopped"),
      new Promise((resolve) => (timer = setTimeout(() => resolve("still waiting"), 30_000))),
    ]);
    clearTimeout(timer);
    agent.destroy();
    for (const pending of active) pending.destroy();
    expect(outcome).toBe("stopped");
  }, 90_000);
});
