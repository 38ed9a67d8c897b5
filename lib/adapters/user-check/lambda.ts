import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4, type SignatureV4Init } from "@smithy/signature-v4";
import * as z from "zod";
import { ProviderError } from "../../domain/errors.ts";
import type { UserCheck, UserCheckInput, UserCheckResult } from "../../ports/user-check.ts";
import { parseJsonOrUndefined } from "../lenient-json.ts";

/** What the check function answers: AWS Backup's validation result, in simsnap's words. */
const AnswerSchema = z.object({
  status: z.enum(["PASSED", "FAILED"]),
  detail: z.string().max(1500).default(""),
});

/** Where and as whom the function is invoked; the endpoint is for tests on loopback. */
export interface LambdaUserCheckOptions {
  region: string;
  endpoint?: string;
  credentials?: SignatureV4Init["credentials"];
}

/**
 * The user check as a Lambda function (config `verification.check.lambdaArn`), invoked
 * synchronously (Lambda's `Invoke`, RequestResponse) with the test's details as its event. It
 * answers `{"status": "PASSED" | "FAILED", "detail": "…"}`; a function error, an answer of
 * another shape or no answer within the timeout fails the test. Throttling and Lambda's own 5xx
 * are thrown as retryable, so the step is tried again rather than a verdict made on them. One
 * signed HTTPS call, so the functions bundle no Lambda SDK client.
 */
export class LambdaUserCheck implements UserCheck {
  readonly description: string;
  private readonly endpoint: URL;
  private readonly signer: SignatureV4;

  constructor(
    private readonly functionArn: string,
    options: LambdaUserCheckOptions,
  ) {
    this.description = `Lambda ${functionArn}`;
    this.endpoint = new URL(options.endpoint ?? `https://lambda.${options.region}.amazonaws.com`);
    this.signer = new SignatureV4({
      service: "lambda",
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
  }

  async run(input: UserCheckInput, timeoutMs: number): Promise<UserCheckResult> {
    const body = JSON.stringify(input);
    const path = `/2015-03-31/functions/${encodeURIComponent(this.functionArn)}/invocations`;
    const signed = await this.signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: this.endpoint.protocol,
        hostname: this.endpoint.hostname,
        port: this.endpoint.port === "" ? undefined : Number(this.endpoint.port),
        path,
        headers: {
          host: this.endpoint.host,
          "content-type": "application/json",
          "x-amz-invocation-type": "RequestResponse",
        },
        body,
      }),
    );
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(path, this.endpoint), {
        method: "POST",
        headers: signed.headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if ((error as Error).name === "TimeoutError") {
        return { status: "FAILED", detail: `gave no answer within ${timeoutMs / 1000} s` };
      }
      throw new ProviderError(
        "NetworkError",
        `Invoking ${this.functionArn} failed: ${(error as Error).message}`,
        {
          status: 503,
          retryable: true,
          cause: error,
        },
      );
    }
    if (response.status === 429 || response.status >= 500) {
      throw new ProviderError(
        "LambdaUnavailable",
        `Lambda answered ${response.status}: ${text.slice(0, 200)}`,
        {
          status: response.status,
          retryable: true,
        },
      );
    }
    if (response.status >= 300) {
      return {
        status: "FAILED",
        detail: `could not be invoked (${response.status}): ${text.slice(0, 300)}`,
      };
    }
    const functionError = response.headers.get("x-amz-function-error");
    if (functionError) {
      return {
        status: "FAILED",
        detail: `the function failed (${functionError}): ${text.slice(0, 300)}`,
      };
    }
    const answer = AnswerSchema.safeParse(parseJsonOrUndefined(text));
    if (!answer.success) {
      return {
        status: "FAILED",
        detail: `answered ${text.slice(0, 200) || "nothing"}, not {"status": "PASSED" | "FAILED", "detail": "…"}`,
      };
    }
    return { status: answer.data.status, detail: answer.data.detail || "no detail" };
  }
}
