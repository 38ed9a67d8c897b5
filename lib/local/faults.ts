import * as z from "zod";

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Chaos mode needs the same faults from the same seed, so
 * that a run that broke something can be run again; `Math.random` cannot be seeded.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A share of events to disturb (0 none, 1 all), and the seed that decides which ones. */
export const FaultRateSchema = z.object({
  rate: z.number().min(0).max(1),
  seed: z.number().int().min(0).max(0xffff_ffff),
});
/** A share of events to disturb and its seed. */
export type FaultRate = z.infer<typeof FaultRateSchema>;

/**
 * The seeded decision "disturb this one?", one per event in the order events come. Each place
 * that injects faults gets its own stream (`stream` salts the seed), so faults in the simulator
 * do not shift which S3 events are dropped, and the other way round.
 */
export class FaultDice {
  private readonly random: () => number;

  constructor(
    private readonly fault: FaultRate,
    stream: string,
  ) {
    let salt = 0;
    for (const char of stream) salt = (Math.imul(salt, 31) + (char.codePointAt(0) ?? 0)) >>> 0;
    this.random = seededRandom((fault.seed ^ salt) >>> 0);
  }

  /** True for a share `rate` of calls; a rate of 0 never draws, so it never disturbs. */
  roll(): boolean {
    return this.fault.rate > 0 && this.random() < this.fault.rate;
  }

  /** One of `choices`, evenly, from the same stream. */
  pick<T>(choices: readonly [T, ...T[]]): T {
    return choices[Math.floor(this.random() * choices.length)] ?? choices[0];
  }
}
