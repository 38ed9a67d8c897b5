import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SecretReader } from "./token.ts";

// A module of its own, imported with `import()` at the token's first read: named imports here
// let the bundler keep the client and its one command, where importing the SDK package's
// namespace would keep every command of it.

/** A Secrets Manager client on the environment's credentials and region. */
export const secretsManager = (): SecretsManagerClient => new SecretsManagerClient({});

/** The text of secret `secretId` (undefined for a binary secret). */
export async function secretString(
  client: SecretReader,
  secretId: string,
): Promise<string | undefined> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return answer.SecretString;
}
