/**
 * A schema built by `build` the first time anything touches it (a parse, a method such as
 * `.optional()` or `.shape`, or a parent schema's parse), and the same schema ever after. zod
 * builds a schema when its module is evaluated, and a Lambda function evaluates every module it
 * imports at each cold start: most of the domain's schemas check what only some functions read
 * (config files, API bodies, events of other functions), and building them all cost each cold
 * start about 10 ms (docs/scale.md, issue 17). Wrapping a schema's definition defers that to its
 * first use; its type, its rules and every caller stay as they are. A parent schema that holds a
 * lazy one builds it on the parent's first parse; a method called on it (`X.optional()`) builds
 * it at once, so a module-level parent takes it as `z.optional(X)` to keep it lazy.
 *
 * It is a proxy of the schema, so zod meets two objects for one schema: `z.toJSONSchema` keys
 * what it has seen by object, while each built schema's own JSON Schema step looks itself up as
 * the built object, and metadata (`.meta()`) is registered on the built object. So the proxy's
 * `_zod` has no such step of its own (`z.toJSONSchema`, the only generator simsnap uses, then
 * applies zod's processor for the type to the proxy) and names the built schema its parent, as a
 * zod clone does, which is how it inherits the metadata: the OpenAPI document and the config
 * file's JSON Schema come out byte for byte as with eager schemas (checked when this was added).
 */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  /** Its methods bound to it, so that calls run on the schema itself, not through the proxy. */
  const bound = new Map<PropertyKey, [original: unknown, method: unknown]>();
  let internals: object | undefined;
  return new Proxy({} as T, {
    get(_, key) {
      const target = schema();
      if (key === "_zod") {
        internals ??= Object.create((target as { _zod: object })._zod, {
          processJSONSchema: { value: undefined },
          parent: { value: target },
        }) as object;
        return internals;
      }
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      const cached = bound.get(key);
      if (cached?.[0] === value) return cached[1];
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(key, [value, method]);
      return method;
    },
    set: (_, key, value) => Reflect.set(schema(), key, value),
    has: (_, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      // The proxy's own target is an empty object: a property it reports must be configurable.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(schema(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
