import { AsyncLocalStorage } from "node:async_hooks";
import { InvokeStoreBase } from "@aws/lambda-invoke-store";
import type { Context } from "aws-lambda";

type InvocationValues = Record<string | symbol, unknown>;

/**
 * The per-invocation store Lambda's runtime gives functions that run several invocations at once
 * in one environment (Lambda Managed Instances), backed by an `AsyncLocalStorage` as the runtime's
 * own is. Powertools keeps a logger's Lambda context and appended keys (and metrics, and the batch
 * processor's state) in it, so concurrent invocations do not write into each other's.
 */
class LocalInvokeStore extends InvokeStoreBase {
  readonly #storage = new AsyncLocalStorage<InvocationValues>();

  getContext(): InvocationValues | undefined {
    return this.#storage.getStore();
  }

  hasContext(): boolean {
    return this.#storage.getStore() !== undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    return this.#storage.getStore()?.[key] as T | undefined;
  }

  set<T = unknown>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) {
      throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    }
    const values = this.#storage.getStore();
    if (!values) throw new Error("No invocation is running");
    values[key] = value;
  }

  run<T>(values: InvocationValues, fn: () => T): T {
    return this.#storage.run(values, fn);
  }
}

/**
 * Powertools reads only whether `AWS_LAMBDA_MAX_CONCURRENCY` is set; the local runtime caps
 * nothing, and this value is what the variable would say of a managed instance's environment.
 */
const LOCAL_MAX_CONCURRENCY = "64";

let store: LocalInvokeStore | undefined;

/**
 * Runs each call of `handler` as an invocation of its own, as Lambda does when one environment
 * serves concurrent invocations: the local runtime runs every function in one process, so
 * without this a line logged by one invocation through the shared logger could carry the request
 * id, function name or keys another invocation had just set. The first call switches Powertools
 * to per-invocation state for the whole process (`AWS_LAMBDA_MAX_CONCURRENCY` and the runtime's
 * global store, which this process has no real runtime to provide).
 */
export function asOwnInvocations<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  if (!store) {
    store = new LocalInvokeStore();
    process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= LOCAL_MAX_CONCURRENCY;
    const global = globalThis as { awslambda?: { InvokeStore?: InvokeStoreBase } };
    (global.awslambda ??= {}).InvokeStore = store;
  }
  const invocations = store;
  return (event, context) =>
    invocations.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
      handler(event, context),
    );
}
