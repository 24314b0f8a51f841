// Wording and verdict sets shared by the CI, review and Actions reports.

/** Completed-check conclusions that fail a commit. */
export const FAILING_CONCLUSIONS = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure']);
/** Completed-check conclusions that do not block. */
export const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

export function shortSha(sha: string): string {
  return /^[0-9a-f]{40}$/i.test(sha) ? sha.slice(0, 7) : sha;
}

export function listNames(names: string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
