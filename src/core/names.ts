// Name rules of Kubernetes and friends, and the workspace name built on them.
import type { FieldError } from './errors.js';

export const MAX_WORKSPACE_NAME = 55;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 label: namespaces, most object names. */
export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters (secrets, ingresses, classes). */
export function isDnsSubdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((part) => isDnsLabel(part));
}

/** A Kubernetes qualified name such as `app` or `example.com/tier` (label, annotation, resource keys). */
export function isQualifiedName(s: string): boolean {
  const slash = s.lastIndexOf('/');
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/**
 * A workspace name becomes a StatefulSet, a Service `<name>-service`, a Docker container and a directory, so it
 * must be a DNS label that starts with a letter (Service names are RFC 1035 labels) and leaves room for the
 * `-service` suffix.
 */
export function validateWorkspaceName(name: unknown, field = 'name'): FieldError[] {
  const allowed = "lower-case letters (a-z), digits (0-9) and '-', starting with a letter and ending with a letter or digit";
  if (name === undefined || name === null || name === '') {
    return [{ field, message: `is required: a name of ${allowed}.` }];
  }
  if (typeof name !== 'string') {
    return [{ field, message: `must be a string of ${allowed}.` }];
  }
  if (name.length > MAX_WORKSPACE_NAME) {
    return [{ field, message: `must be at most ${MAX_WORKSPACE_NAME} characters long (it is ${name.length}).` }];
  }
  if (!DNS_1035_LABEL.test(name)) {
    return [{ field, message: `may contain only ${allowed}; ${JSON.stringify(name)} does not.` }];
  }
  return [];
}
