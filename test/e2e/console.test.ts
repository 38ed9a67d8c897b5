import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { LOCAL_SNAPSHOT_BUCKET } from "../../lib/domain/config-file.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH names another build. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** axe-core, the accessibility checker, run inside the page. */
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
/** Screenshots of the main views; docs/console.md links committed copies of them. */
const SHOTS = join(process.cwd(), "test-results", "console");

/** How far the page scrolls sideways: 0 when it fits the screen. */
const OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth";

const DAY = 86_400_000;
const SEEDED = 8;

/** Daily archived checkpoints of ocean-currents up to 3 days ago, the second oldest a favorite. */
function seeded(now: number): Checkpoint[] {
  return Array.from({ length: SEEDED }, (_, i) => {
    const createdAt = new Date(now - (SEEDED - i + 2) * DAY).toISOString();
    const stamp = createdAt.replace(/[-:.]/g, "");
    return {
      id: `seeded-${i}`,
      version: 1,
      simulation: "ocean-currents",
      provider: "simspaceweaver",
      name: `nightly ${createdAt.slice(0, 10)}`,
      description: "",
      tags: [],
      favorite: i === 1,
      state: "COMPLETE",
      trigger: "schedule",
      createdAt,
      modifiedAt: createdAt,
      completedAt: createdAt,
      location: {
        bucket: LOCAL_SNAPSHOT_BUCKET,
        key: `simsnap/snapshot/ocean-currents-${stamp}.zip`,
      },
      size: 1024 * (i + 1),
      // Archived, so that prune may remove them (with an archive, a checkpoint leaves once copied).
      archive: {
        bucket: "simsnap-archive",
        key: `ocean-currents/${stamp}.zip`,
        storageClass: "STANDARD_IA",
        archivedAt: createdAt,
      },
    };
  });
}

describe("web console in headless Chromium", () => {
  let stack: RunningStack;
  let browser: Browser;
  let page: Page;

  const open = async (simulation: string) => {
    await page.goto(`${stack.info.apiEndpoint}/?simulation=${encodeURIComponent(simulation)}`);
    await page.getByRole("heading", { level: 2, name: simulation }).waitFor();
  };
  const timeline = () => page.getByRole("group", { name: /^Timeline of/ });
  /** Checkpoints drawn in a state's row: a mark stands for one, or for `data-count` of them. */
  const drawn = (state: string) =>
    timeline()
      .locator(`[data-state="${state}"]`)
      .evaluateAll((marks) =>
        marks.reduce((sum, mark) => sum + Number(mark.getAttribute("data-count") ?? 1), 0),
      );
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
    }
    await mkdir(SHOTS, { recursive: true });
    stack = await startLocalStack({
      simulations: ["ocean-currents", "city-traffic"],
      // Long enough for a PENDING checkpoint to be seen between two polls of the console.
      config: { snapshotDelayMs: 3000 },
      file: {
        retention: { default: { keepLast: 4 } },
        // Its first tick is a day away: it only sets the staleness threshold (2 days).
        schedules: [{ name: "daily", expression: "rate(1 day)" }],
      },
    });
    for (const checkpoint of seeded(Date.now())) await stack.catalog.create(checkpoint);
    for (const name of ["warm-up", "before upgrade"]) {
      const job = await stack.client.simulations.snapshot("city-traffic", { name });
      await stack.client.jobs.wait(job.id, { timeoutMs: 30_000, intervalMs: 250 });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("lists the simulations and puts the demo simulations' checkpoints on the timeline", async () => {
    // What `npm start` prints: where the console is.
    expect(stack.lines).toContainEqual(
      `  Console ${stack.info.apiEndpoint}/  (the web console: open it in a browser)`,
    );
    await open("city-traffic");
    const table = page.getByRole("table").first();
    await table.getByRole("button", { name: "ocean-currents" }).waitFor();
    await table.getByRole("button", { name: "city-traffic" }).waitFor();
    await expect
      .poll(() => timeline().getAttribute("aria-label"))
      .toBe("Timeline of 2 checkpoints");
    expect(await drawn("COMPLETE")).toBe(2);
    // The staleness alarm's rule: no completed checkpoint for over twice the daily interval.
    const verdict = (name: string) =>
      table.getByRole("row").filter({ hasText: name }).locator("[class*=freshness-]").textContent();
    expect(await verdict("city-traffic")).toBe("fresh");
    expect(await verdict("ocean-currents")).toBe("late");
    await shot("overview.png");

    await page.getByRole("button", { name: "ocean-currents" }).click();
    await expect
      .poll(() => timeline().getAttribute("aria-label"))
      .toBe(`Timeline of ${SEEDED} checkpoints`);
    expect(await timeline().locator("[data-checkpoint]").count()).toBe(SEEDED);
  });

  it("favorites a checkpoint chosen with the keyboard, and the API sees it", async () => {
    await open("ocean-currents");
    await timeline().focus();
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowLeft");
    const details = page.locator("section.details[data-checkpoint]");
    await details.waitFor();
    const id = await details.getAttribute("data-checkpoint");
    expect(id).toBe(`seeded-${SEEDED - 2}`);
    await page.getByRole("button", { name: "☆ Favorite" }).click();
    await page.getByRole("button", { name: "★ Unfavorite" }).waitFor();
    expect((await stack.client.checkpoints.get(id as string)).favorite).toBe(true);
    await shot("checkpoint-details.png");

    // Hovering another mark shows its details in place of the selection's, until the mouse leaves.
    await timeline().locator('[data-checkpoint="seeded-3"]').hover();
    await expect.poll(() => details.getAttribute("data-checkpoint")).toBe("seeded-3");
    expect(await details.getByRole("heading").textContent()).toContain("(hovered)");
    await page.mouse.move(0, 0);
    await expect.poll(() => details.getAttribute("data-checkpoint")).toBe(id);
  });

  it("previews retention with the very checkpoints the API's dry run removes", async () => {
    await open("ocean-currents");
    await page.getByRole("button", { name: "Preview retention" }).click();
    await page.locator(".preview").waitFor();
    const marked = async (plan: string) =>
      (
        await timeline()
          .locator(`[data-plan="${plan}"]`)
          .evaluateAll((marks) => marks.map((m) => m.getAttribute("data-checkpoint")))
      ).sort();
    const answer = await stack.client.prune({ simulation: "ocean-currents", dryRun: true });
    if (!answer.dryRun) throw new Error("expected a dry run");
    const [plan] = answer.plans;
    expect(plan?.remove.length).toBeGreaterThan(0);
    expect(await marked("remove")).toEqual(plan?.remove.map((r) => r.id).sort());
    expect(await marked("keep")).toEqual(plan?.keep.map((k) => k.id).sort());

    // A kept mark's reasons: the seeded favorite is kept as one.
    await timeline().focus();
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    const reasons = page.locator('[data-preview="keep"]');
    await expect.poll(() => reasons.textContent()).toMatch(/^kept: .*favorite/);
    await shot("retention-preview.png");

    // Prune, confirmed: the previewed checkpoints, and only they, become DELETED.
    await page.getByRole("button", { name: `Prune… (remove ${plan?.remove.length})` }).click();
    await page.getByRole("button", { name: "Prune", exact: true }).click();
    await expect.poll(() => drawn("DELETED"), { timeout: 20_000 }).toBe(plan?.remove.length);
    const listed = await stack.client.checkpoints.page({
      simulation: "ocean-currents",
      state: ["DELETED"],
    });
    expect(listed.items.map((c) => c.id).sort()).toEqual(plan?.remove.map((r) => r.id).sort());
  });

  it("shows a snapshot it started as PENDING, then COMPLETE", async () => {
    await open("city-traffic");
    await page.getByLabel("Snapshot name (optional)").fill("from the console");
    await page.getByRole("button", { name: "Snapshot now" }).click();
    await timeline().locator('[data-state="PENDING"]').waitFor({ timeout: 15_000 });
    await page.locator("tr[data-job] .status-running").first().waitFor();
    await shot("snapshot-pending.png");
    await timeline()
      .locator('[data-state="PENDING"]')
      .waitFor({ state: "detached", timeout: 30_000 });
    await expect.poll(() => drawn("COMPLETE")).toBe(3);
    const listed = await stack.client.checkpoints.page({ simulation: "city-traffic" });
    expect(listed.items.find((c) => c.name === "from the console")?.state).toBe("COMPLETE");
  });

  it("shows the API's refusal as the API words it", async () => {
    await open("ocean-currents");
    await timeline().focus();
    await page.keyboard.press("End");
    await page.getByLabel("Name", { exact: true }).fill("   ");
    await page.getByRole("button", { name: "Rename" }).click();
    // The banner is hidden until there is an error: wait for it (a rename that went through
    // would show none), then read it.
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/^400 ValidationError/);
    expect(await alert.textContent()).toContain("name: must not be empty");
  });

  it("keeps a name typed before the page paints the checkpoint it picked", async () => {
    await open("ocean-currents");
    await timeline().waitFor();
    // Pick the last checkpoint and type its new name before the next frame (a quick person, a
    // busy machine), then look again after two frames, when any after-paint effect has run.
    const [shown, kept] = (await page.evaluate(`(async () => {
      const plot = document.querySelector(".plot");
      plot.focus();
      plot.dispatchEvent(new KeyboardEvent("keydown", { key: "End", bubbles: true }));
      const field = () => document.querySelector("form.rename input");
      for (let i = 0; i < 50 && !field(); i++) await Promise.resolve();
      const shown = field().value;
      field().value = "typed at once";
      field().dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((painted) =>
        requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(painted, 50))),
      );
      return [shown, field().value];
    })()`)) as [string, string];
    expect([shown, kept]).toEqual([expect.stringMatching(/^nightly /), "typed at once"]);
  });

  it("shows the trash with when each is purged, undeletes from it, and shows refusals as the API words them", async () => {
    const now = Date.now();
    const deletedAt = new Date(now - 60_000).toISOString();
    const record = (id: string, name: string, createdAgo: number): Checkpoint => {
      const createdAt = new Date(now - createdAgo).toISOString();
      return {
        id,
        version: 2,
        simulation: "city-traffic",
        provider: "simspaceweaver",
        name,
        description: "",
        tags: [],
        favorite: false,
        state: "DELETED",
        trigger: "manual",
        createdAt,
        modifiedAt: deletedAt,
        completedAt: createdAt,
        location: { bucket: LOCAL_SNAPSHOT_BUCKET, key: `simsnap/snapshot/${id}.zip` },
        size: 2048,
      };
    };
    // In the trash by its record, but its bytes are gone from the trash and from its place.
    await stack.catalog.create({
      ...record("bytes-gone", "bytes gone", 2 * DAY),
      trash: { bucket: LOCAL_SNAPSHOT_BUCKET, key: "simsnap/trash/bytes-gone/v1/bytes-gone.zip" },
      purgeAfter: new Date(now + 3 * DAY).toISOString(),
    });
    // Deleted for good (a delete the trash did not cover): not in the trash at all.
    await stack.catalog.create(record("for-good", "deleted for good", 3 * DAY));
    // A real snapshot file, moved to the trash by the API's DELETE.
    const { items } = await stack.client.checkpoints.page({ simulation: "city-traffic" });
    const warmUp = items.find((c) => c.name === "warm-up");
    if (!warmUp) throw new Error("no warm-up checkpoint");
    expect((await stack.client.checkpoints.delete(warmUp.id)).purgeAfter).toBeDefined();

    await open("city-traffic");
    const toggle = page.getByRole("button", { name: "Trash (2)" });
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    const trash = page.getByRole("region", { name: "Trash" });
    const rows = trash.locator("tr[data-trashed]");
    // Soonest purged first, each with the time its deletion becomes final.
    await expect
      .poll(() => rows.evaluateAll((r) => r.map((row) => row.getAttribute("data-trashed"))))
      .toEqual(["bytes-gone", warmUp.id]);
    // (The page's clock is that of its last poll, up to 5 s old: a week may still read "7 d".)
    expect(await rows.nth(0).textContent()).toMatch(/in (2 d 23 h|3 d)Undelete/);
    expect(await rows.nth(1).textContent()).toMatch(/in (6 d 23 h|7 d)Undelete/);

    // Bytes gone: the API refuses, and says why.
    await trash.getByRole("button", { name: "Undelete bytes gone" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(
      /^409 Conflict: Checkpoint bytes-gone cannot be undeleted: its bytes are gone/,
    );
    // A trashed checkpoint's details say until when, and offer the undelete too.
    await trash.getByRole("button", { name: "warm-up", exact: true }).click();
    const details = page.locator(`section.details[data-checkpoint="${warmUp.id}"]`);
    expect(await details.locator("[data-trash]").textContent()).toMatch(
      /^in the trash until .* \(in (6 d 23 h|7 d)\)$/,
    );
    await shot("trash.png");

    // Undelete with the keyboard: the file is back, the checkpoint COMPLETE on the timeline.
    await trash.getByRole("button", { name: "Undelete warm-up" }).focus();
    await page.keyboard.press("Enter");
    await rows.filter({ hasText: "warm-up" }).waitFor({ state: "detached", timeout: 10_000 });
    // The row leaves with the answer; the notice and the focus follow once the call is done.
    await expect
      .poll(() => page.locator(".notice").textContent())
      .toBe("Undeleted warm-up: COMPLETE again.");
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("trash-title");
    await timeline().locator(`[data-state="COMPLETE"][data-checkpoint="${warmUp.id}"]`).waitFor();
    expect(await details.locator("[data-trash]").count()).toBe(0);
    const back = await stack.client.checkpoints.get(warmUp.id);
    expect(back.state).toBe("COMPLETE");
    expect(
      await stack.objects.head(back.location as NonNullable<typeof back.location>),
    ).toBeDefined();

    // Deleted for good, picked on the timeline (the oldest): its undelete is refused with the reason.
    await timeline().focus();
    await page.keyboard.press("Home");
    await page.locator('section.details[data-checkpoint="for-good"]').waitFor();
    expect(await page.locator("[data-trash]").textContent()).toBe(
      "not in the trash: deleted for good",
    );
    await page.getByRole("button", { name: "Undelete", exact: true }).click();
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(
      /^409 Conflict: Checkpoint for-good was deleted for good/,
    );
  });

  it("signs its API requests in the browser with the credentials typed in, as API Gateway wants", async () => {
    const signed = await browser.newPage();
    try {
      await signed.goto(`${stack.info.apiEndpoint}/?simulation=city-traffic`);
      await signed.getByRole("button", { name: "AWS credentials" }).click();
      await signed.getByLabel("Region").fill("eu-west-1");
      await signed.getByLabel("Access key id").fill("AKIDEXAMPLE");
      await signed.getByLabel("Secret access key").fill("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
      await signed.getByLabel("Session token (temporary credentials)").fill("session-token");
      const request = signed.waitForRequest((r) => new URL(r.url()).pathname === "/simulations");
      await signed.getByRole("button", { name: "Sign requests" }).click();
      const headers = (await request).headers();
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(headers["x-amz-security-token"]).toBe("session-token");
      await signed.getByRole("button", { name: /^Signing as AKIDEXAM/ }).waitFor();
    } finally {
      await signed.close();
    }
  });

  it("passes axe's WCAG 2 A and AA checks (contrast, labels, roles) with a checkpoint selected", async () => {
    // axe is injected as an inline script, which the console's own policy rightly refuses.
    const context = await browser.newContext({ bypassCSP: true });
    const checked = await context.newPage();
    const violations = async () => {
      await checked.addScriptTag({ path: AXE });
      return (await checked.evaluate(
        `axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) })))`,
      )) as { id: string; nodes: string[] }[];
    };
    try {
      await checked.goto(`${stack.info.apiEndpoint}/?simulation=ocean-currents`);
      const plot = checked.getByRole("group", { name: /^Timeline of/ });
      await plot.focus();
      await checked.keyboard.press("End");
      await checked.getByRole("button", { name: "Preview retention" }).click();
      await checked.locator(".preview").waitFor();
      expect(await violations()).toEqual([]);

      // The trash shown, with a trashed checkpoint's details (the trash test left one there).
      await checked.goto(`${stack.info.apiEndpoint}/?simulation=city-traffic`);
      await checked.getByRole("button", { name: /^Trash \([1-9]/ }).click();
      await checked.getByRole("region", { name: "Trash" }).getByRole("button").first().click();
      await checked.locator("section.details [data-trash]").waitFor();
      expect(await violations()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("fits a narrow screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open("ocean-currents");
    await timeline().waitFor();
    expect(await page.evaluate(OVERFLOW)).toBe(0);
    await shot("narrow.png");

    // The trash too (the trash test left a checkpoint in city-traffic's).
    await open("city-traffic");
    await page.getByRole("button", { name: /^Trash \([1-9]/ }).click();
    await page.getByRole("region", { name: "Trash" }).locator("tr[data-trashed]").first().waitFor();
    expect(await page.evaluate(OVERFLOW)).toBe(0);
  });
});
