import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { completionNodes, completionScript } from "../../../cli/completion.ts";
import { buildProgram, runCli } from "../../../cli/program.ts";

const quiet = { out: () => undefined, err: () => undefined };

/** What bash offers for the words typed so far (the last one is being completed). */
function bashCompletes(script: string, words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync(
    "bash",
    [
      "-c",
      `${script}\nCOMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _simsnap; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8" },
  );
  return out.split("\n").filter((line) => line !== "");
}

/** What the zsh function hands `_describe` (or `_files`) for the words typed so far. */
function zshOffers(script: string, words: string[]): string[] {
  const out = execFileSync(
    "zsh",
    [
      "-f",
      "-c",
      [
        "compdef() { :; }",
        "_describe() { local name=${@[-1]}; print -rl -- ${(P)name}; }",
        '_files() { print "(files)"; }',
        script,
        `words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _simsnap`,
      ].join("\n"),
    ],
    { encoding: "utf8" },
  );
  return out.split("\n").filter((line) => line !== "");
}

const hasZsh = spawnSync("zsh", ["-f", "-c", "true"]).status === 0;

describe("simsnap completion", () => {
  const script = completionScript(buildProgram(quiet), "bash");

  it("completes commands, subcommands, options and argument choices in bash", () => {
    expect(bashCompletes(script, ["simsnap", "ch"])).toEqual(["checkpoints"]);
    expect(bashCompletes(script, ["simsnap", "checkpoints", "fav"])).toEqual(["favorite"]);
    expect(bashCompletes(script, ["simsnap", "checkpoints", "list", "--cr"])).toEqual([
      "--created-after",
      "--created-before",
    ]);
    // Arguments and option values are stepped over: the command is still `snapshot`.
    expect(bashCompletes(script, ["simsnap", "snapshot", "ocean", "--name", "x", "--w"])).toEqual([
      "--wait",
    ]);
    expect(bashCompletes(script, ["simsnap", "completion", ""])).toEqual(["bash", "zsh"]);
    expect(bashCompletes(script, ["simsnap", "--ver"])).toEqual(["--version"]);
  });

  it("is generated from the command tree: every command is in it, and a new one joins", () => {
    const program = buildProgram(quiet);
    const paths = completionNodes(program).map((node) => node.path);
    for (const command of program.commands) {
      expect(paths).toContain(command.name());
      for (const sub of command.commands)
        expect(paths).toContain(`${command.name()} ${sub.name()}`);
    }
    const extended = buildProgram(quiet);
    extended.command("brand-new").option("--shiny");
    const withNew = completionScript(extended, "bash");
    expect(bashCompletes(withNew, ["simsnap", "brand"])).toEqual(["brand-new"]);
    expect(bashCompletes(withNew, ["simsnap", "brand-new", "--sh"])).toEqual(["--shiny"]);
  });

  it("writes a zsh script with each command's description, for compdef or $fpath", () => {
    const zsh = completionScript(buildProgram(quiet), "zsh");
    expect(zsh.startsWith("#compdef simsnap\n")).toBe(true);
    expect(zsh).toContain("compdef _simsnap simsnap");
    expect(zsh).toContain("'checkpoints list') cmds=(); opts=(");
    expect(zsh).toContain("'favorite:mark a checkpoint favorite: retention never removes it'");
    // zsh's special parameters ($path, $commands, $options) must not be assigned or made local.
    expect(zsh).not.toMatch(/\b(path|commands|options)=|local -a (commands|options)\b/);
  });

  it.skipIf(!hasZsh)("offers zsh each command's subcommands and options, described", () => {
    const zsh = completionScript(buildProgram(quiet), "zsh");
    expect(zshOffers(zsh, ["simsnap", "jobs", "w"])).toEqual([
      "list:list jobs, newest first",
      "show:show one job",
      "wait:wait until a job finishes; exit code 0 only if it SUCCEEDED",
      "help:display help for command",
    ]);
    expect(zshOffers(zsh, ["simsnap", "completion", ""])).toEqual([
      "bash:bash or zsh",
      "zsh:bash or zsh",
    ]);
    expect(zshOffers(zsh, ["simsnap", "prune", "--dry-run", "--s"])).toContain(
      "--simulation:only this simulation",
    );
    expect(zshOffers(zsh, ["simsnap", "retention", "plan", "--checkpoints", ""])).toEqual([
      "(files)",
    ]);
  });

  it("is printed by `simsnap completion <shell>`, and refuses other shells (exit 2)", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await runCli(["completion", "bash"], io)).toBe(0);
    expect(out.join("\n")).toContain("complete -o default -F _simsnap simsnap");
    expect(await runCli(["completion", "fish"], io)).toBe(2);
    expect(err.join("\n")).toContain("Allowed choices are bash, zsh");
  });
});
