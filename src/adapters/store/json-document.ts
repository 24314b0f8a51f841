/**
 * JSON for stored documents (deployment meta, soak and monitor data, incidents, step details)
 * that keeps every number: JSON has no +Inf, -Inf or NaN and JSON.stringify writes them as
 * null, which lost the +Inf bucket of every stored histogram. Non-finite numbers are written as
 * {"$number": "+Inf" | "-Inf" | "NaN"} and read back as numbers; everything else is plain JSON.
 */
const TAG = '$number';
const NAMES: Record<string, number> = { '+Inf': Infinity, '-Inf': -Infinity, NaN: NaN };

export function encodeDocument(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'number' || Number.isFinite(v)) return v;
    return { [TAG]: Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf' };
  });
}

export function decodeDocument<T = unknown>(text: string): T {
  // The reviver visits every value; the controller reads every watch's document each second and
  // most hold no tagged number at all.
  if (!text.includes(`"${TAG}"`)) return JSON.parse(text) as T;
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const name = (v as Record<string, unknown>)[TAG];
      if (keys.length === 1 && typeof name === 'string' && Object.hasOwn(NAMES, name)) return NAMES[name];
    }
    return v;
  }) as T;
}
