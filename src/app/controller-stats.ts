/** How late the controller's evaluations run, summed up over a window for `shipgate serve`'s log. */

export interface TickTiming {
  /** When this pass was due (epoch ms): the previous pass's start plus the interval. */
  dueAt: number;
  /** How late the pass started: an overrun of the previous one, or a busy event loop. */
  startLagMs: number;
  /** How long the pass took. */
  durationMs: number;
  /** Per watch evaluated: from when its evaluation was due to when its verdict was stored. */
  evaluationLagMs: number[];
}

export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export interface ControllerStats {
  ticks: number;
  evaluations: number;
  /** Due to stored verdict, over every evaluation of the window. */
  evaluationLagMs: Spread;
  startLagMs: Spread;
  tickMs: Spread;
}

/** Nearest-rank quantile of sorted values; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

/** Collects tick timings; `take()` summarises the window so far and starts a new one. */
export class TickStatsWindow {
  private lags: number[] = [];
  private starts: number[] = [];
  private durations: number[] = [];

  add(timing: TickTiming): void {
    this.lags.push(...timing.evaluationLagMs);
    this.starts.push(timing.startLagMs);
    this.durations.push(timing.durationMs);
  }

  get ticks(): number {
    return this.durations.length;
  }

  take(): ControllerStats {
    const stats = { ticks: this.durations.length, evaluations: this.lags.length, evaluationLagMs: spread(this.lags), startLagMs: spread(this.starts), tickMs: spread(this.durations) };
    this.lags = [];
    this.starts = [];
    this.durations = [];
    return stats;
  }
}

const ms = (n: number) => `${Math.round(n)}ms`;

export function describeStats(s: ControllerStats): string {
  return `controller: ${s.ticks} passes, ${s.evaluations} evaluations; evaluation lag p50 ${ms(s.evaluationLagMs.p50)} p99 ${ms(s.evaluationLagMs.p99)} max ${ms(s.evaluationLagMs.max)}; pass p99 ${ms(s.tickMs.p99)}, started late p99 ${ms(s.startLagMs.p99)}`;
}
