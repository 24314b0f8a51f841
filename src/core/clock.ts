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

export interface ScaledClock extends Clock {
  speed: number;
  /** The real (wall-clock) epoch milliseconds at which this clock showed `at`. */
  toRealMs(at: Date | string): number;
}

/**
 * A clock that starts at the real time and runs `speed` times faster: the demo soaks a 24 h
 * release in seconds. Real waits (health polling, leases, the loop interval) do not use it.
 */
export function scaledClock(speed: number, origin = Date.now()): ScaledClock {
  return {
    speed,
    now: () => new Date(origin + (Date.now() - origin) * speed),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / speed)),
    toRealMs: (at) => origin + (new Date(at).getTime() - origin) / speed,
  };
}
