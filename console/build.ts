/**
 * Builds the web console (console/src) into three static files: `index.html`, `app.js` and
 * `app.css`, with esbuild (which tsx already brings). The console is built, never committed: the
 * local runtime builds it at start (in a fraction of a second) into its data directory, and the CDK
 * stack builds it next to the API function's bundle, so what is served is always what the
 * sources say. Usage: `tsx console/build.ts <output directory>`.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** One built file of the console, by the name it is served under. */
export interface ConsoleFile {
  name: "index.html" | "app.js" | "app.css";
  contentType: string;
  text: string;
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

/**
 * The console's files, in memory. Scripts and styles are referenced from `index.html` with a
 * hash of their content, so a browser never runs a stale script against a newer API function.
 */
export async function buildConsoleFiles(): Promise<ConsoleFile[]> {
  const result = await build({
    entryPoints: { app: join(here, "src", "main.tsx") },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome115", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: "/console",
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const text = (suffix: string) =>
    result.outputFiles.find((file) => file.path.endsWith(suffix))?.text ?? "";
  const js = text(".js");
  const css = text(".css");
  const html = (await readFile(join(here, "index.html"), "utf8"))
    .replace("app.css", `app.css?v=${hash(css)}`)
    .replace("app.js", `app.js?v=${hash(js)}`);
  return [
    { name: "index.html", contentType: "text/html; charset=utf-8", text: html },
    { name: "app.js", contentType: "text/javascript; charset=utf-8", text: js },
    { name: "app.css", contentType: "text/css; charset=utf-8", text: css },
  ];
}

/** Builds the console into `directory` (created if missing); returns the directory. */
export async function buildConsole(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  for (const file of await buildConsoleFiles()) {
    await writeFile(join(directory, file.name), file.text);
  }
  return directory;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const directory = process.argv[2];
  if (!directory) throw new Error("Usage: tsx console/build.ts <output directory>");
  await buildConsole(directory);
}
