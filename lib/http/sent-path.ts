/**
 * The header in which simsnap's clients repeat the request path exactly as they sent it, still
 * percent-encoded. API Gateway's HTTP API hands Lambda a `rawPath` it has already decoded
 * (`%20` a space, `%2F` a `/`, `%23` a `#`, sometimes twice: `%252F` a `/`), and cuts it at a
 * decoded `?` (`/checkpoints/a%3Fb` arrives as `/checkpoints/a`), as live captures show; the
 * local stack and Lambda function URLs hand it over encoded. From `rawPath` alone a function
 * cannot tell which, so a name with `?`, `/` or `%` in it could reach another route or another
 * resource. This header lets the router notice and refuse; it never routes by it (a caller who
 * could route by a header could reach a path its IAM policy does not allow).
 */
export const SENT_PATH_HEADER = "x-simsnap-path";

/**
 * One path segment as the router reads it: percent-decoded when it is encoded (the local stack,
 * function URLs), as it is when it is not (HTTP API's decoded `rawPath`: "My First Simulation",
 * or "100% load", whose `%` starts no escape).
 */
export function readSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Characters an encoded path may hold literally (RFC 3986 `pchar` and `/`), plus `%XX` escapes. */
const ENCODED_PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * Why the request cannot be routed safely, or undefined when it can: the path the client says it
 * sent (`sent`, from `SENT_PATH_HEADER`; undefined for callers that do not send it) must read,
 * segment by segment, as the path that reached the function (`rawPath`) reads to the router.
 * Any difference (a segment split at a decoded `/`, a path cut at a decoded `?`, an escape
 * decoded twice) means the router would act on another resource than the one asked for.
 */
export function sentPathRefusal(rawPath: string, sent: string | undefined): string | undefined {
  if (sent === undefined) return undefined;
  if (!ENCODED_PATH.test(sent)) {
    return `${SENT_PATH_HEADER} must be the request path as sent: "/" then percent-encoded segments`;
  }
  const wanted = sent.split("/").map((segment) => decodeURIComponent(segment));
  const arrived = rawPath.split("/").map(readSegment);
  if (wanted.length === arrived.length && wanted.every((segment, i) => segment === arrived[i])) {
    return undefined;
  }
  return (
    `The request path reached simsnap as ${JSON.stringify(rawPath)}, which does not read as the path sent ` +
    `(${sent}): the gateway decoded it (API Gateway's HTTP API decodes percent-escapes in paths, and cuts a ` +
    "path at a decoded ?), so it was not routed. Behind API Gateway's HTTP API, a path cannot carry a name or id " +
    "holding ?, % or / faithfully"
  );
}
