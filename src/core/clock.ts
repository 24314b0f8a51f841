/** Time is injected so long waits can be tested in milliseconds (DESIGN §3). */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const isoNow = (clock: Clock) => clock.now().toISOString();
