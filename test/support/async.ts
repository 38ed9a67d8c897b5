/** Waits `ms`: for tests that let a local server's timers or event delivery play out. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
