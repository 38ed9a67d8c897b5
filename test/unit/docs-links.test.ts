import { existsSync, readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** What the checker may look at: paths are relative to the repository root, with `/`. */
interface Tree {
  exists(path: string): boolean;
  read(path: string): string;
}

const FENCE = /^\s*(```|~~~)/;

/** The text with fenced blocks and inline code blanked out, so their brackets are no links. */
function prose(markdown: string): string {
  let fenced = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (FENCE.test(line)) {
        fenced = !fenced;
        return "";
      }
      return fenced ? "" : line.replace(/(`+)[^`]*?\1/g, (code) => " ".repeat(code.length));
    })
    .join("\n");
}

/** GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces as `-`. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a document offers: its headings (repeats get `-1`, `-2`) and explicit ids. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (FENCE.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1] ?? "");
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      found.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const id of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(id[1] ?? "");
  }
  return found;
}

/** Every link target of a document with its line: inline links, images, references, hrefs. */
function links(markdown: string): { target: string; line: number }[] {
  const text = prose(markdown);
  const patterns = [
    /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm,
    /\shref="([^"]+)"/g,
  ];
  return patterns.flatMap((pattern) =>
    [...text.matchAll(pattern)].map((match) => ({
      target: match[1] ?? "",
      line: text.slice(0, match.index).split("\n").length,
    })),
  );
}

/**
 * Every relative link of `sources` that leads nowhere: a file or folder that does not exist, or
 * an anchor that no heading of the target document produces. Links with a scheme (https:,
 * mailto:) are not followed.
 */
function brokenLinks(sources: readonly string[], tree: Tree): string[] {
  const broken: string[] = [];
  for (const source of sources) {
    for (const { target, line } of links(tree.read(source))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const where = `${source}:${line}: ${target}`;
      const hash = target.indexOf("#");
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const file =
        path === ""
          ? source
          : posix.normalize(posix.join(posix.dirname(source), path)).replace(/\/$/, "");
      if (file.startsWith("../") || !tree.exists(file)) {
        broken.push(`${where} (no file ${file})`);
      } else if (anchor !== undefined && !anchors(tree.read(file)).has(anchor)) {
        broken.push(`${where} (no heading of ${file} has the anchor #${anchor})`);
      }
    }
  }
  return broken;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const repository: Tree = {
  exists: (path) => existsSync(posix.join(root, path)),
  read: (path) => readFileSync(posix.join(root, path), "utf8"),
};
const docs = readdirSync(posix.join(root, "docs"))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);

/** A tree of the given files; folders exist when a file is in them. */
function treeOf(files: Record<string, string>): Tree {
  return {
    exists: (path) => path in files || Object.keys(files).some((f) => f.startsWith(`${path}/`)),
    read: (path) => files[path] ?? "",
  };
}

describe("the README and docs/", () => {
  it("have only relative links and anchors that resolve", () => {
    expect(docs.length).toBeGreaterThan(5);
    expect(brokenLinks(["README.md", ...docs], repository)).toEqual([]);
  });

  it("are one site: the README links every page of docs/", () => {
    const linked = new Set(
      links(repository.read("README.md")).map(({ target }) => target.split("#")[0]),
    );
    expect(docs.filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe("the link checker", () => {
  const files = {
    "README.md": [
      "# Title",
      "See [events](docs/events.md#snapshot-requested) and [setup](#getting-started).",
      "[gone](docs/missing.md), [no anchor](docs/events.md#nope), [up](../outside.md)",
      "[folder](docs/) and [site](https://example.com/#x) and [mail](mailto:a@b.c)",
      "`[not a link](nowhere.md)`",
      "```",
      "[not a link either](nowhere.md)",
      "```",
      "## Getting started",
    ].join("\n"),
    "docs/events.md": "# Events\n\n## Snapshot Requested\n\n[back](../README.md#title)\n",
  };

  it("reports a missing file, a missing anchor and a path outside the tree, nothing else", () => {
    expect(brokenLinks(["README.md", "docs/events.md"], treeOf(files))).toEqual([
      "README.md:3: docs/missing.md (no file docs/missing.md)",
      "README.md:3: docs/events.md#nope (no heading of docs/events.md has the anchor #nope)",
      "README.md:3: ../outside.md (no file ../outside.md)",
    ]);
  });

  it("finds a link broken on this repository's own README", () => {
    const readme = `${repository.read("README.md")}\n[broken](docs/lifecycle.md#no-such-section)\n`;
    const tree = {
      ...repository,
      read: (path: string) => (path === "README.md" ? readme : repository.read(path)),
    };
    expect(brokenLinks(["README.md"], tree)).toEqual([
      expect.stringContaining("docs/lifecycle.md#no-such-section"),
    ]);
  });

  it("anchors headings as GitHub does: code, punctuation and repeats", () => {
    const page = [
      "# Chaos mode: `npm start -- --faults RATE`",
      "## Retention and pruning",
      "## Retention and pruning",
      "### `SimsnapStateful` (the data) → kept",
      "## [Linked](x.md) heading ##",
    ].join("\n");
    expect([...anchors(page)]).toEqual([
      "chaos-mode-npm-start------faults-rate",
      "retention-and-pruning",
      "retention-and-pruning-1",
      "simsnapstateful-the-data--kept",
      "linked-heading",
    ]);
  });
});
