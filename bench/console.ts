/**
 * The web console at 10,000 checkpoints of one simulation, in headless Chromium: the real API
 * (its routes on the in-memory ports, served on loopback as the local stack serves it) with one
 * checkpoint an hour for 10,000 hours (a few failed, deleted, favorite or archived), and the
 * console built as `npm start` builds it. Per run, in a fresh page: the time until the newest
 * 1,000 are drawn (the console draws what it has read while it reads older ones), the time until
 * all are drawn (10 pages of 1,000 read through the API, then laid out and painted), the
 * console's own figure from the last answer to the painted timeline, the marks drawn, the time
 * a key press takes to move the selection, and the time the retention preview takes (dry run
 * included). Medians of 3 runs; prints figures, asserts nothing.
 * Usage: npm run bench:console -- [checkpoints, default 10000]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildConsoleFiles } from "../console/build.ts";
import { RetentionConfigSchema } from "../lib/domain/retention.ts";
import { apiRoutes } from "../lib/http/api-routes.ts";
import { consoleFiles } from "../lib/http/console-files.ts";
import { httpApi } from "../lib/http/router.ts";
import { serveHttpApi, type HttpApiHandler } from "../lib/local/http-server.ts";
import { logger } from "../lib/observability/logger.ts";
import { apiWorld } from "../test/support/api-world.ts";
import { checkpoint } from "../test/support/checkpoint-factory.ts";

const COUNT = Number(process.argv[2] ?? 10_000);
const RUNS = 3;
const KEYS = 20;
const HOUR = 3_600_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

logger.setLogLevel("SILENT");
const world = apiWorld({ big: "STARTED" });
// A daily/weekly policy over 10,000 hourly checkpoints: most of them would go.
world.retention = RetentionConfigSchema.parse({
  default: { keepLast: 24, keepDaily: 30, keepWeekly: 52 },
  maxRemoveFraction: 1,
});
const start = Date.now() - COUNT * HOUR;
for (let i = 0; i < COUNT; i++) {
  const createdAt = new Date(start + i * HOUR).toISOString();
  await world.checkpoints.create(
    checkpoint({
      id: `cp-${String(i).padStart(6, "0")}`,
      simulation: "big",
      name: `hourly ${createdAt.slice(0, 13)}`,
      createdAt,
      state: i % 97 === 0 ? "FAILED" : i % 13 === 0 ? "DELETED" : "COMPLETE",
      favorite: i % 1000 === 0,
      ...(i % 24 === 0
        ? {
            archive: {
              bucket: "archive",
              key: `simsnap/archive/${i}.zip`,
              storageClass: "GLACIER",
              archivedAt: createdAt,
            },
          }
        : {}),
    }),
  );
}

const dir = await mkdtemp(join(tmpdir(), "simsnap-console-bench-"));
for (const file of await buildConsoleFiles()) await writeFile(join(dir, file.name), file.text);
const handler = httpApi(apiRoutes(world), consoleFiles(dir)) as unknown as HttpApiHandler;
const server = await serveHttpApi({ handler, port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const firsts: number[] = [];
const loads: number[] = [];
const renders: number[] = [];
const keys: number[] = [];
const previews: number[] = [];
let marks = 0;
let removed = 0;
try {
  for (let run = 0; run < RUNS; run++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const started = performance.now();
    await page.goto(`${server.endpoint}/?simulation=big`);
    await page.getByRole("group", { name: /^Timeline of/ }).waitFor({ timeout: 120_000 });
    firsts.push(performance.now() - started);
    const timeline = page.getByRole("group", { name: `Timeline of ${COUNT} checkpoints` });
    await timeline.waitFor({ timeout: 120_000 });
    await page.locator("[data-render-ms]").waitFor();
    loads.push(performance.now() - started);
    renders.push(Number(await page.locator("[data-render-ms]").getAttribute("data-render-ms")));
    marks = Number(await timeline.getAttribute("data-marks"));

    await timeline.focus();
    await page.keyboard.press("End");
    const pressing = performance.now();
    for (let i = 0; i < KEYS; i++) await page.keyboard.press("ArrowLeft");
    await page.evaluate("new Promise((resolve) => requestAnimationFrame(resolve))");
    keys.push((performance.now() - pressing) / KEYS);

    const previewing = performance.now();
    await page.getByRole("button", { name: "Preview retention" }).click();
    await page.locator(".preview").waitFor();
    await page.locator("[data-plan]").first().waitFor();
    previews.push(performance.now() - previewing);
    removed = Number(await page.locator(".preview").getAttribute("data-remove"));
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}

const ms = (value: number) => `${Math.round(value)} ms`;
console.log(
  `web console, ${COUNT} checkpoints of one simulation, headless Chromium, median of ${RUNS}`,
);
console.log(`  open to the newest 1,000 drawn (one API page): ${ms(median(firsts))}`);
console.log(
  `  open to drawn timeline (reading ${Math.ceil(COUNT / 1000)} API pages included): ${ms(median(loads))}`,
);
console.log(`  last API answer to painted timeline (layout and render): ${ms(median(renders))}`);
console.log(`  marks drawn: ${marks} (for ${COUNT} checkpoints)`);
console.log(`  arrow key to next selection: ${median(keys).toFixed(1)} ms`);
console.log(`  retention preview (dry run of ${removed} removals, drawn): ${ms(median(previews))}`);
