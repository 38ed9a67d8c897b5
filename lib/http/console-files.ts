import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "../domain/errors.ts";
import type { StaticFiles } from "./router.ts";

/** The built console's files (console/build.ts) by the path they are served at. */
const PATHS: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/console/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/console/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/**
 * The page may load only its own script and styles and talk only to its own origin (the API):
 * nothing from a CDN, nothing inline, so it works offline and an injected string cannot run.
 */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // The script's URL carries its content hash; the page itself is read again on every visit.
  "cache-control": "no-cache",
};

/**
 * Serves the web console built into `directory` (by console/build.ts: the local runtime builds it
 * at start, the stack next to the API function's bundle). Files are read once, on the first
 * request for one, so API calls never pay for them; a deployment without the console answers
 * `/` with a 404 that says so.
 */
export function consoleFiles(directory: string): StaticFiles {
  const cache = new Map<string, Promise<string>>();
  return async (path) => {
    const entry = PATHS[path];
    if (!entry) return undefined;
    let text = cache.get(entry.file);
    if (!text) {
      text = readFile(join(directory, entry.file), "utf8");
      cache.set(entry.file, text);
    }
    try {
      return { body: await text, headers: { ...PAGE_HEADERS, "content-type": entry.type } };
    } catch (error) {
      cache.delete(entry.file);
      throw new NotFoundError(
        `The web console is not built into this deployment (no ${entry.file} in ${directory}); see docs/console.md`,
        { cause: error },
      );
    }
  };
}
