// Kubernetes resource quantities ("512Mi", "0.5", "250m", "1e9") turned into the numbers the Docker
// engine wants, so one container_config means the same thing on every cluster type.
import { PermanentRuntimeError } from '../../core/runtime.js';

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** The value of a quantity in base units (bytes, cores). Throws on anything Kubernetes would reject. */
export function parseQuantity(text: string, field = 'quantity'): number {
  const match = QUANTITY.exec(String(text).trim());
  if (!match) {
    throw new PermanentRuntimeError(`${field}: "${text}" is not a valid quantity (e.g. 512Mi, 1Gi, 500m, 2)`, 'InvalidConfig');
  }
  const [, digits, exponent, suffix] = match;
  let value = Number(digits);
  if (exponent) value *= 10 ** Number(exponent.slice(1));
  else if (suffix) value *= BINARY[suffix] ?? DECIMAL[suffix] ?? 1;
  if (!Number.isFinite(value) || value < 0) {
    throw new PermanentRuntimeError(`${field}: "${text}" must be a non-negative quantity`, 'InvalidConfig');
  }
  return value;
}

/** Bytes, rounded up as Kubernetes does for fractional byte quantities. */
export function memoryBytes(text: string, field = 'memory'): number {
  return Math.ceil(parseQuantity(text, field));
}

/** Docker's NanoCpus: billionths of a core. */
export function nanoCpus(text: string, field = 'cpu'): number {
  return Math.round(parseQuantity(text, field) * 1e9);
}

/** Docker's relative CpuShares (1024 per core), the closest thing it has to a CPU request. */
export function cpuShares(text: string, field = 'cpu'): number {
  return Math.max(2, Math.round(parseQuantity(text, field) * 1024));
}
