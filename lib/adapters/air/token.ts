import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { AirTokenProvider } from "./client.ts";

/**
 * The Air API token from an environment variable, read at every request: locally the token is
 * the environment's, and a test (or an operator) swapping it takes effect at the next call.
 */
export const envToken =
  (variable: string, env: NodeJS.ProcessEnv = process.env): AirTokenProvider =>
  () =>
    env[variable];

/** What reading the secret needs: the client's one call, so tests pass a client on a stub. */
export type SecretReader = Pick<SecretsManagerClient, "send">;

/**
 * The Air API token from a Secrets Manager secret (its `SecretString`, or a JSON object's
 * `token` field, as an operator pasting `{"token": "…"}` in the console writes it), read once per
 * cold start and shared by concurrent first calls, so a burst of Air calls is one
 * GetSecretValue. A `refresh` (the client asks after a 401) reads the secret again, so a rotated
 * token is picked up without a redeploy. An empty secret (created by the stack, not yet filled)
 * reads as no token, which the client reports as such. The SDK is imported at the first read, not
 * at every cold start of a function that may reach an Air simulation.
 */
export function secretsManagerToken(secretId: string, client?: SecretReader): AirTokenProvider {
  let cached: Promise<string | undefined> | undefined;
  let reader = client;
  const read = async (): Promise<string | undefined> => {
    const { secretsManager, secretString } = await import("./secret-value.ts");
    reader ??= secretsManager();
    return tokenFromSecret(await secretString(reader, secretId));
  };
  return (options) => {
    if (!cached || options?.refresh) {
      const reading = read();
      // A failed read is not cached: the next request reads again.
      reading.catch(() => {
        if (cached === reading) cached = undefined;
      });
      cached = reading;
    }
    return cached;
  };
}

/** The token in a secret's text: the text itself, or the `token` field of a JSON object. */
export function tokenFromSecret(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed) return undefined;
  if (!trimmed.startsWith("{")) return trimmed;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    const token =
      typeof parsed === "object" && parsed !== null
        ? (parsed as Record<string, unknown>).token
        : undefined;
    return typeof token === "string" && token.trim() !== "" ? token.trim() : undefined;
  } catch {
    return trimmed;
  }
}
