/**
 * Exponential backoff without jitter: deterministic on purpose, so that two deliveries of the same
 * message compute the same next due time and collapse into one chain of checks.
 */
export function backoffSeconds(
  attempt: number,
  options: { baseSeconds: number; maxSeconds: number; factor?: number },
): number {
  const factor = options.factor ?? 2;
  const raw = options.baseSeconds * factor ** Math.max(0, attempt);
  return Math.min(options.maxSeconds, Math.max(0, Math.round(raw)));
}
