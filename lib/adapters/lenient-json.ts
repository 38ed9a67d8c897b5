/**
 * A response body as JSON, or `undefined` when it is empty or not JSON. The platform clients read
 * error bodies this way: a proxy's HTML page or an empty 502 must still become a typed
 * `ProviderError` from the status code, not a SyntaxError.
 */
export function parseJsonOrUndefined(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
