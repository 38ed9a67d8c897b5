import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { interruptHandler } from "../../../cli/commands/local.ts";
import { exitQuietlyWhenPipeCloses } from "../../../cli/io.ts";
import { runCli } from "../../../cli/program.ts";
import { SIMSNAP_VERSION } from "../../../lib/version.ts";

describe("simsnap as a process", () => {
  it("prints the version with --version", async () => {
    const out: string[] = [];
    expect(await runCli(["--version"], { out: (l) => out.push(l), err: () => undefined })).toBe(0);
    expect(out).toEqual([SIMSNAP_VERSION]);
  });

  it("exits quietly (0) when the reader of its output goes away, and fails on other errors", () => {
    const stream = new EventEmitter() as unknown as NodeJS.WritableStream;
    const exits: number[] = [];
    exitQuietlyWhenPipeCloses(stream, (code) => exits.push(code));
    stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(exits).toEqual([0]);
    expect(() =>
      stream.emit("error", Object.assign(new Error("disk full"), { code: "ENOSPC" })),
    ).toThrow("disk full");
  });
});

describe("Ctrl-C during simsnap local", () => {
  function handler() {
    const controller = new AbortController();
    const out: string[] = [];
    const exits: number[] = [];
    let now = 1_000_000;
    const onSignal = interruptHandler(
      controller,
      { out: (l) => out.push(l), err: (l) => out.push(l) },
      { restoreDemo: true, exit: (code) => exits.push(code), now: () => now },
    );
    return { controller, out, exits, onSignal, later: (ms: number) => (now += ms) };
  }

  it("starts the clean stop on the first one and says a second one quits", () => {
    const { controller, out, exits, onSignal } = handler();
    onSignal("SIGINT");
    expect(controller.signal.aborted).toBe(true);
    expect(out).toEqual([
      "Ctrl-C: stopping cleanly (open jobs, restore demo, summary); Ctrl-C again quits at once",
    ]);
    expect(exits).toEqual([]);
  });

  it("takes the copies npm and tsx relay of the same Ctrl-C for that one", () => {
    const { out, exits, onSignal, later } = handler();
    onSignal("SIGINT");
    later(40);
    onSignal("SIGINT");
    later(900);
    onSignal("SIGINT");
    expect(exits).toEqual([]);
    expect(out).toHaveLength(1);
  });

  it("quits at once on a second Ctrl-C, with the signal's exit code", () => {
    const { out, exits, onSignal, later } = handler();
    onSignal("SIGINT");
    later(2_000);
    onSignal("SIGINT");
    expect(exits).toEqual([130]);
    expect(out.at(-1)).toBe("Ctrl-C again: quitting at once, without the clean stop");
    const term = handler();
    term.onSignal("SIGTERM");
    term.later(2_000);
    term.onSignal("SIGTERM");
    expect(term.exits).toEqual([143]);
  });
});
