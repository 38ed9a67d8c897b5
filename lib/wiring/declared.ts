import { ConfigError } from "../domain/errors.ts";
import { topology, type FunctionName, type FunctionNeeds } from "../topology.ts";

/**
 * Builds on the first call and returns the same value ever after: an SDK client and its
 * connections are made once per process, and only in the functions that ask for them.
 */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

/**
 * How a port's method hands back its answer, which a stand-in must keep: a promise (`call`), or
 * an async iterable returned at once (`iterate`, as `ObjectStore.list` does).
 */
export type Deferral = "call" | "iterate";

/**
 * A stand-in for the adapter `load` resolves to, with every method of its port (`shape`, a
 * `Record` over the port's keys, so a new method cannot be left out): each awaits `load`, then
 * calls the adapter. The wiring loads an adapter and its AWS SDK client with `import()` in `load`,
 * so a bundle split at those imports (infra/bundling.ts) evaluates an SDK client's code on the
 * first call that needs it, not at every cold start, and never in an invocation that calls no
 * method of it. `load` is called on every use: pass one built with `once`.
 */
export function deferred<T extends object>(
  load: () => Promise<T>,
  shape: Record<MethodOf<T>, Deferral>,
): Pick<T, MethodOf<T>> {
  const standIn = {} as Record<string, unknown>;
  for (const [method, deferral] of Object.entries(shape) as [keyof T & string, Deferral][]) {
    const adapterMethod = async (): Promise<(...args: unknown[]) => unknown> => {
      const adapter = await load();
      return (adapter[method] as (...args: unknown[]) => unknown).bind(adapter);
    };
    standIn[method] =
      deferral === "iterate"
        ? async function* (...args: unknown[]) {
            yield* (await adapterMethod())(...args) as AsyncIterable<unknown>;
          }
        : async (...args: unknown[]) => (await adapterMethod())(...args);
  }
  return standIn as Pick<T, MethodOf<T>>;
}

/** The keys of `T` that are (required) methods. */
type MethodOf<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];

/** A function's declaration in `lib/topology.ts`, which every builder checks a request against. */
export const needsOf = (name: FunctionName): FunctionNeeds => topology.functions[name].needs;

/**
 * The error of a handler that uses what its function does not declare. In AWS the same use would
 * be an AccessDenied (no grant) or a silently defaulted setting (no variable); here it fails at
 * once, in tests and in the local runtime, and names the place to fix.
 */
export const undeclared = (name: FunctionName, what: string): ConfigError =>
  new ConfigError(`${name} uses ${what}, which its needs in lib/topology.ts do not declare`);

/**
 * A view of `target` with every method of its port, the ones `methods` allows bound to it and
 * the others rejecting with `refuse(method)`, as IAM would refuse the call in AWS. Listing every
 * method (a `Record` over the port's keys) keeps a new port method from slipping past.
 */
export function restrict<T extends object, M extends keyof T>(
  target: T,
  methods: Record<M, boolean>,
  refuse: (method: M) => Error,
): Pick<T, M> {
  const view = {} as Record<M, unknown>;
  for (const method of Object.keys(methods) as M[]) {
    const call = target[method] as (...args: unknown[]) => unknown;
    view[method] = methods[method] ? call.bind(target) : () => Promise.reject(refuse(method));
  }
  return view as Pick<T, M>;
}
