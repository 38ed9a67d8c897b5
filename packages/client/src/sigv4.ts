import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4, type SignatureV4Init } from "@smithy/signature-v4";

/** How to sign requests to the AWS deployment of the API. */
export interface SigV4FetchOptions {
  region: string;
  /** Credentials or a provider of them; the AWS SDK's default chain when absent. */
  credentials?: SignatureV4Init["credentials"];
  /** Default `execute-api`, the service of API Gateway's IAM authorization. */
  service?: string;
  /** The fetch that sends the signed request (default the global one). */
  fetch?: typeof fetch;
}

/** The API Gateway region of an `execute-api` endpoint, or undefined for any other URL. */
export function executeApiRegion(endpoint: string): string | undefined {
  try {
    return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(endpoint).hostname)?.[1];
  } catch {
    return undefined;
  }
}

function headerRecord(headers: RequestInit["headers"]): Record<string, string> {
  const record: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/**
 * A fetch that signs each request with AWS Signature Version 4, which the deployed API's IAM
 * authorizer requires: pass it as the client's `fetch`. Bodies must be strings (the client only
 * sends JSON), since the signature covers the body's hash.
 */
export function sigV4Fetch(options: SigV4FetchOptions): typeof fetch {
  const signer = new SignatureV4({
    service: options.service ?? "execute-api",
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  const send = options.fetch ?? globalThis.fetch.bind(globalThis);
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      throw new TypeError("sigV4Fetch signs string bodies only");
    }
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, name) => {
      query[name] = value;
    });
    const request = new HttpRequest({
      method: (init.method ?? "GET").toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...headerRecord(init.headers), host: url.host },
      ...(typeof init.body === "string" ? { body: init.body } : {}),
    });
    const headers = { ...(await signer.sign(request)).headers };
    // fetch sets Host itself, to the very value that was signed.
    delete headers.host;
    return send(url, { ...init, headers });
  };
}
