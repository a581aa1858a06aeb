// Kubernetes resource quantities ("500m", "2Gi", "1e3"), checked as the API server would parse them.

const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A non-negative Kubernetes quantity. */
export function isQuantity(s: string): boolean {
  return QUANTITY.test(s);
}

/** A quantity greater than zero (a volume of 0Gi cannot hold anything). */
export function isPositiveQuantity(s: string): boolean {
  if (!isQuantity(s)) return false;
  const digits = s.replace(/([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)$/, '');
  return /[1-9]/.test(digits);
}

export const QUANTITY_HELP = 'a Kubernetes quantity such as 500m, 1, 0.5, 512Mi, 2Gi or 1e3';
