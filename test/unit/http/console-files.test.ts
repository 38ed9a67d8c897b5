import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleFiles } from "../../../lib/http/console-files.ts";
import { httpApi, route } from "../../../lib/http/router.ts";
import { logger } from "../../../lib/observability/logger.ts";
import { apiEvent } from "../../support/api-event.ts";

describe("the web console's files", () => {
  let built: string;
  const routes = [
    route({
      method: "GET",
      path: "/healthz",
      operationId: "health",
      summary: "health",
      responses: {},
      handle: async () => ({ status: 200, body: { status: "ok" } }),
    }),
  ];

  beforeAll(async () => {
    logger.setLogLevel("SILENT");
    built = await mkdtemp(join(tmpdir(), "simsnap-console-"));
    await writeFile(join(built, "index.html"), "<!doctype html><title>simsnap</title>");
    await writeFile(join(built, "app.js"), "console.log(1)");
    await writeFile(join(built, "app.css"), "body{}");
  });
  afterAll(() => rm(built, { recursive: true, force: true }));

  it("serves the page at / with a policy that loads nothing from elsewhere, and its script", async () => {
    const handler = httpApi(routes, consoleFiles(built));
    const page = await handler(apiEvent("GET", "/?simulation=ocean-currents"));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<title>simsnap</title>");
    expect(page.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers?.["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers?.["content-security-policy"]).toContain("connect-src 'self'");
    const script = await handler(apiEvent("GET", "/console/app.js?v=abc"));
    expect(script).toMatchObject({ statusCode: 200, body: "console.log(1)" });
    expect(script.headers?.["content-type"]).toBe("text/javascript; charset=utf-8");
  });

  it("leaves the API's routes and its 404s as they were", async () => {
    const handler = httpApi(routes, consoleFiles(built));
    expect((await handler(apiEvent("GET", "/healthz"))).body).toBe('{"status":"ok"}');
    const unknown = await handler(apiEvent("GET", "/console/other.js"));
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body ?? "")).toMatchObject({ error: { code: "NotFound" } });
    expect((await handler(apiEvent("POST", "/"))).statusCode).toBe(404);
  });

  it("says so when the deployment has no console built", async () => {
    const handler = httpApi(routes, consoleFiles(join(built, "missing")));
    const answer = await handler(apiEvent("GET", "/"));
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body ?? "").error.message).toMatch(
      /^The web console is not built into this deployment \(no index.html in .*\); see docs\/console.md$/,
    );
  });
});
