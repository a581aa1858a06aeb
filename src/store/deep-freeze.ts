// What the store hands out to many callers is shared rather than copied per call (copying cost more
// than the read it saved), so it is frozen: a caller that changes one fails loudly instead of
// changing what the next caller reads.

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
