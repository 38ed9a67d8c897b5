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
