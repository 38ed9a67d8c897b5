import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import {
  compileMetricPath,
  MetricPathSchema,
  parseSidecarJson,
  readMetric,
} from "../../../lib/domain/metric-path.ts";

/** A trimmed `trainer_state.json` as transformers writes it at a save that follows an evaluation. */
const TRAINER_STATE = {
  best_global_step: 1000,
  best_metric: 0.4123,
  best_model_checkpoint: "runs/exp7/checkpoint-1000",
  epoch: 1.5,
  eval_steps: 500,
  global_step: 1500,
  log_history: [
    { epoch: 0.5, grad_norm: 3.1, learning_rate: 4.5e-5, loss: 1.2, step: 500 },
    { epoch: 0.5, eval_loss: 0.52, eval_runtime: 12.3, step: 500 },
    { epoch: 1.5, grad_norm: 2.2, learning_rate: 3.5e-5, loss: 0.61, step: 1500 },
    { epoch: 1.5, eval_loss: 0.4471, eval_runtime: 12.1, step: 1500 },
  ],
  max_steps: 3000,
  save_steps: 500,
};

const read = (path: string, document: unknown = TRAINER_STATE) =>
  readMetric(compileMetricPath(path), document);

describe("metric paths", () => {
  it("reads the numbers a training tool writes", () => {
    expect(read("log_history[-1].eval_loss")).toBe(0.4471);
    expect(read("log_history[0].loss")).toBe(1.2);
    expect(read('log_history[-2]["loss"]')).toBe(0.61);
    expect(read("best_metric")).toBe(0.4123);
    expect(read('["val/loss"]', { "val/loss": 0.3 })).toBe(0.3);
    expect(read("[1]", [5, 6])).toBe(6);
    expect(read("a.b-c.$d", { a: { "b-c": { $d: 2 } } })).toBe(2);
  });

  it.each([
    ["log_history[-1].loss", "a key the last entry lacks"],
    ["log_history[4].eval_loss", "an index past the end"],
    ["log_history[-5].eval_loss", "a negative index past the start"],
    ["log_history.eval_loss", "a key into an array"],
    ["best_model_checkpoint", "text"],
    ["log_history", "an array"],
    ["global_step[0]", "an index into a number"],
    ["constructor", "an inherited property"],
  ])("gives no value for %s (%s)", (path) => {
    expect(read(path)).toBeUndefined();
  });

  it("gives no value for null, NaN or infinities, which cannot be ranked", () => {
    expect(read("a", { a: null })).toBeUndefined();
    expect(read("a", { a: Number.NaN })).toBeUndefined();
    expect(read("a", { a: Number.POSITIVE_INFINITY })).toBeUndefined();
    expect(read("a", undefined)).toBeUndefined();
  });

  it.each([
    ["", "it is empty"],
    [".a", 'cannot start with "." at position 1'],
    ["a.", 'expected a name after "." (use ["…"] for other keys) at position 3'],
    ["a..b", 'expected a name after "."'],
    ["a.1b", 'expected a name after "."'],
    ["a[x]", "expected an index such as [0] or [-1], or a key"],
    ["a[1", "expected an index such as [0] or [-1]"],
    ["a b", 'unexpected " "; expected "." or "[" at position 2'],
    ["a[0]b", 'unexpected "b"'],
    ['a["\\x"]', "is not a valid JSON string"],
    ["a[99999999999999999999]", "is too large"],
  ])("refuses %j, naming what is wrong", (path, why) => {
    const error = (() => {
      try {
        compileMetricPath(path);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(why);
  });

  it("is offered to configs as a schema", () => {
    expect(MetricPathSchema.safeParse("log_history[-1].eval_loss").success).toBe(true);
    expect(
      MetricPathSchema.safeParse("log_history[-1]..eval_loss").error?.issues[0]?.message,
    ).toContain('expected a name after "."');
  });

  it("reads the value at any path written out from its steps", () => {
    const step = fc.oneof(
      fc.string().map((key) => ({ key })),
      fc.nat({ max: 4 }).map((index) => ({ index })),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 5 }), fc.double(), (steps, leaf) => {
        let document: unknown = leaf;
        let path = "";
        for (const s of [...steps].reverse()) {
          if ("key" in s) {
            document = { other: 1, [s.key]: document };
            path = `[${JSON.stringify(s.key)}]${path}`;
          } else {
            const array: unknown[] = Array.from({ length: s.index + 2 }, () => 0);
            array[s.index] = document;
            document = array;
            path = `[${s.index}]${path}`;
          }
        }
        expect(readMetric(compileMetricPath(path), document)).toBe(
          Number.isFinite(leaf) ? leaf : undefined,
        );
      }),
    );
  });
});

describe("parseSidecarJson", () => {
  it("reads what Python's json.dump writes for non-finite floats as null", () => {
    const text = '{"loss": NaN, "best": -Infinity, "eval_loss": 0.5, "x": [Infinity]}';
    expect(parseSidecarJson(text)).toEqual({ loss: null, best: null, eval_loss: 0.5, x: [null] });
  });

  it("leaves the words alone inside strings", () => {
    const text = '{"note": "NaN \\"Infinity\\" -Infinity", "NaN": 1}';
    expect(parseSidecarJson(text)).toEqual({ note: 'NaN "Infinity" -Infinity', NaN: 1 });
  });

  it("refuses text that is not JSON even so", () => {
    expect(() => parseSidecarJson("{loss: 1}")).toThrow(ValidationError);
    expect(() => parseSidecarJson("NaNa")).toThrow("not JSON");
  });
});
