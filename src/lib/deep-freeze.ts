// Freezing a value and everything it holds, and telling such values apart: only these may be kept
// by identity (as a WeakMap key for something derived from their content), since nothing can change them.
const deeplyFrozen = new WeakSet<object>();

/** Freezes `value` and all it holds; `value` itself (not each part, to save memory) is then known as deeply frozen. */
export function deepFreeze<T>(value: T): T {
  freezeAll(value);
  if (typeof value === 'object' && value !== null) deeplyFrozen.add(value);
  return value;
}

function freezeAll(value: unknown): void {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freezeAll(child);
  }
}

/** True for a value given to deepFreeze (a value frozen by Object.freeze alone may hold mutable parts). */
export function isDeepFrozen(value: object): boolean {
  return deeplyFrozen.has(value);
}
