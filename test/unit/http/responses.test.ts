import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../lib/domain/errors.ts";
import { toHttpError } from "../../../lib/http/responses.ts";

describe("toHttpError and the provider's answers", () => {
  it("passes the provider's refusals of the request through with its code and message", () => {
    const refused = toHttpError(
      new ProviderError("ValidationException", "Simulation x is STOPPED", { status: 400 }),
      "corr-1",
    );
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { code: "ValidationException", message: "Simulation x is STOPPED" } },
    });
  });

  it("answers a throttle (a retryable 400) like a provider fault, not as the caller's mistake", () => {
    const throttled = toHttpError(
      new ProviderError("ThrottlingException", "Rate exceeded", { status: 400, retryable: true }),
      "corr-2",
    );
    expect(throttled).toMatchObject({
      status: 502,
      internal: true,
      body: { error: { code: "ProviderUnavailable", correlationId: "corr-2" } },
    });
  });

  it.each([
    [401, "Unauthorized", "NVIDIA Air rejected the token: create a new scoped API key"],
    [403, "Forbidden", "NVIDIA Air refused: the key needs scope simulations:write"],
  ])(
    "answers the platform refusing simsnap's credentials (%i) with a 500 no client retries, saying what to fix",
    (status, code, message) => {
      const refused = toHttpError(new ProviderError(code, message, { status }), "corr-3");
      expect(refused).toEqual({
        status: 500,
        internal: true,
        headers: {},
        body: { error: { code, message, details: [] } },
      });
    },
  );
});
