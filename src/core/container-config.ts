// container_config: the YAML the API takes and shows. Parsing (with lines for errors) and rendering.
import { stringify } from 'yaml';
import type { FieldError } from './errors.js';
import type { ContainerConfig } from './types.js';
import { Checker } from './checker.js';
import { checkContainerConfig, CONTAINER_CONFIG_KEYS, type ContainerConfigPatch } from './container-config-check.js';
import { parseYaml } from './yaml-source.js';
import { containerConfigInputShapeErrors, containerConfigShapeErrors } from './container-config-shape.js';

export { mergeContainerConfig, mergeEnv } from './container-config-merge.js';
export { ALLOWED_KEYS, CONTAINER_CONFIG_KEYS, type ContainerConfigKey, type ContainerConfigPatch, type ResourcesPatch } from './container-config-check.js';
export { applyImageTag, imageTag, imageRepository, isImageReference, isImageTag } from './image.js';

export interface ParsedContainerConfig {
  patch: ContainerConfigPatch;
  errors: FieldError[];
}

/**
 * Parses the YAML string of the API; an empty string (or only comments) is an empty patch. The parsed
 * value is held to the JSON shape first (with the line of each field at fault), then checked key by key.
 */
export function parseContainerConfig(yaml: string, field = 'container_config'): ParsedContainerConfig {
  const parsed = parseYaml(yaml, field);
  if (parsed.errors.length > 0) return { patch: {}, errors: parsed.errors };
  const shape = new Checker(parsed.source);
  if (parsed.value !== null && parsed.value !== undefined) {
    for (const error of containerConfigShapeErrors(parsed.value, field)) shape.fail(error.field, error.message);
  }
  const checker = new Checker(parsed.source);
  const patch = checkContainerConfig(parsed.value, field, checker);
  if (shape.errors.length === 0) return { patch, errors: checker.errors };
  // In the order of the text, as a reader goes through it.
  const errors = explained(shape.errors, checker.errors).sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return { patch: {}, errors };
}

/**
 * A value refused for its shape, told field by field: where the key-by-key checks fault the same
 * field, theirs is the message (it can name the variable, the range); the rest of both, at once.
 */
function explained(shape: FieldError[], checks: FieldError[]): FieldError[] {
  return [...checks, ...shape.filter((s) => !checks.some((c) => c.field === s.field))];
}

/**
 * Why a request's container_config was refused for its shape (the request schema found it wrong):
 * each field at fault with what is allowed there; failing that, what the key-by-key checks say.
 */
export function containerConfigInputErrors(input: unknown, field = 'container_config'): FieldError[] {
  const checks = parseContainerConfigInput(input, field).errors;
  return explained(containerConfigInputShapeErrors(input, field), checks);
}

/**
 * Accepts what a client sent: the YAML string Mage documents, or the same content as a JSON object.
 * An object's shape is the request schema's to check (server/schemas.ts uses ContainerConfigInput),
 * so it is not checked twice; the key-by-key checks refuse a value of the wrong type all the same.
 */
export function parseContainerConfigInput(input: unknown, field = 'container_config'): ParsedContainerConfig {
  if (typeof input === 'string') return parseContainerConfig(input, field);
  const checker = new Checker();
  const patch = checkContainerConfig(input, field, checker);
  return { patch, errors: checker.errors };
}

/**
 * lineWidth 0: never fold long values, so what a user copies back is what was stored. No aliases:
 * two equal lists stay two lists, as the user wrote them.
 */
const YAML_RENDER_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** YAML for the API's container_config field: documented key order, env as a list of {name, value}. */
export function renderContainerConfig(config: ContainerConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const key of CONTAINER_CONFIG_KEYS) {
    const value = config[key];
    if (value !== undefined) ordered[key] = key === 'env' ? config.env!.map(({ name, value: v }) => ({ name, value: v })) : value;
  }
  if (Object.keys(ordered).length === 0) return '';
  return stringify(ordered, YAML_RENDER_OPTIONS);
}
