// Kubernetes resource quantities ("500m", "2Gi", "1e3"), checked as the API server would parse them.

const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

const MULTIPLIER: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A non-negative Kubernetes quantity. */
export function isQuantity(s: string): boolean {
  return QUANTITY.test(s);
}

/**
 * The value in base units (cores, bytes, a count), or undefined when `s` is not a quantity. May be
 * Infinity (`1e309`): callers compare it with their bounds, never pass it on.
 */
export function quantityValue(s: string): number | undefined {
  const m = QUANTITY.exec(s);
  if (!m) return undefined;
  const digits = Number(m[1]);
  const suffix = m[3];
  if (suffix === undefined || digits === 0) return digits;
  if (suffix[0] === 'e' || suffix[0] === 'E') return digits * 10 ** Number(suffix.slice(1));
  return digits * MULTIPLIER[suffix]!;
}

/** A quantity greater than zero (a volume of 0Gi cannot hold anything). */
export function isPositiveQuantity(s: string): boolean {
  if (!isQuantity(s)) return false;
  const digits = s.replace(/([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)$/, '');
  return /[1-9]/.test(digits);
}

export const QUANTITY_HELP = 'a Kubernetes quantity such as 500m, 1, 0.5, 512Mi, 2Gi or 1e3';
