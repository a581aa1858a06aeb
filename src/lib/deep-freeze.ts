// Freezing a value and everything it holds, and telling such values apart: only these may be kept
// by identity (as a WeakMap key for something derived from their content), since nothing can change them.
const deeplyFrozen = new WeakSet<object>();

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !deeplyFrozen.has(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
    deeplyFrozen.add(value);
  }
  return value;
}

/** True for a value deepFreeze froze (a value frozen by Object.freeze alone may hold mutable parts). */
export function isDeepFrozen(value: object): boolean {
  return deeplyFrozen.has(value);
}
