import { createHash, randomUUID } from "node:crypto";

/**
 * A UUID derived from a natural key (RFC 9562 version 8, SHA-256 based). Every record created
 * from a trigger gets its id this way, so a duplicate delivery of the same trigger addresses the
 * same record and a conditional create turns the duplicate into a no-op.
 */
export function deterministicId(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A fresh id for records that have no natural key (e.g. a user's manual request). */
export const newId = (): string => randomUUID();
