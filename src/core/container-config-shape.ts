// The JSON shape of container_config as one TypeBox schema: which keys exist and what type each takes.
// The API document shows it; a request's JSON object is held to it by its route, YAML text once parsed
// (container-config.ts); either way only once. What a shape cannot say (an image reference, a quantity,
// a host path, limits, one key against another) container-config-check.ts decides after.
// Each description is the phrase of what is allowed, read after "must be" in an error.
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { FieldError } from './errors.js';
import { describe, indexPath, isPlainObject, keyPath, oneOf } from './checker.js';
import { ENV_NAME_HELP } from './env.js';
import { IMAGE_HELP, TAG_HELP } from './image.js';
import { QUANTITY_HELP } from './quantity.js';
import { PULL_POLICIES, SERVICE_TYPES, TOLERATION_EFFECTS, TOLERATION_OPERATORS } from './container-config-values.js';
import { RESTART_POLICY_SETTINGS } from './types.js';

/** A YAML scalar the checks read as text (`value: 1` is the string "1"). */
const Scalar = (description: string) => Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description });
/** A key whose null removes it from the config, so the runtime's default applies again. */
const OrNull = <T extends TSchema>(schema: T, allowed: string) => Type.Union([schema, Type.Null()], { description: `${allowed} (or null for the default)` });
const StringMap = (allowed: string) => Type.Record(Type.String(), Scalar('a string'), { description: allowed });
const Quantities = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()], { description: `${QUANTITY_HELP} (or null to remove it)` }), {
  description: 'a mapping of resource names to quantities (such as cpu: 500m, memory: 1Gi)',
});
const Command = (allowed: string) => OrNull(Type.Union([Type.String(), Type.Array(Scalar('a string'))]), allowed);
const Port = (minimum: number) => OrNull(Type.Integer({ minimum, maximum: 65535 }), `a whole number from ${minimum} to 65535`);
const KubernetesObject = Type.Object({}, { additionalProperties: true, description: 'a mapping as Kubernetes defines it' });

const EnvEntry = Type.Object(
  {
    name: Type.String({ description: `a variable name (${ENV_NAME_HELP})` }),
    value: Scalar('a string (use "" for an empty value, or unset_env to remove the variable)'),
  },
  { additionalProperties: false, description: 'a mapping with name and value' },
);

const Toleration = Type.Object(
  {
    key: Type.Optional(Scalar('a string')),
    operator: Type.Optional(Type.Enum([...TOLERATION_OPERATORS], { description: oneOf(TOLERATION_OPERATORS) })),
    value: Type.Optional(Scalar('a string')),
    effect: Type.Optional(Type.Enum([...TOLERATION_EFFECTS], { description: oneOf(TOLERATION_EFFECTS) })),
    tolerationSeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'a whole number of seconds' })),
  },
  { additionalProperties: false, description: 'a Kubernetes toleration' },
);

const Volume = Type.Object(
  {
    bind: Type.String({ description: 'an absolute path in the container' }),
    mode: Type.Optional(Type.Union([Type.Enum(['rw', 'ro']), Type.Null()], { description: 'rw or ro' })),
  },
  { additionalProperties: false, description: 'a mapping {bind: /path/in/container, mode: rw or ro}' },
);

export const ContainerConfigShape = Type.Object(
  {
    image: Type.Optional(OrNull(Type.String(), IMAGE_HELP)),
    env: Type.Optional(OrNull(Type.Array(EnvEntry), 'a list of {name, value} entries')),
    resources: Type.Optional(
      OrNull(Type.Object({ limits: Type.Optional(Quantities), requests: Type.Optional(Quantities) }, { additionalProperties: false }), 'a mapping with limits and/or requests'),
    ),
    command: Type.Optional(Command('a list of strings or one command line')),
    args: Type.Optional(Command('a list of strings or one line of arguments')),
    working_dir: Type.Optional(OrNull(Type.String(), 'an absolute path in the container such as /home/src')),
    port: Type.Optional(Port(1)),
    host_port: Type.Optional(Port(0)),
    restart_policy: Type.Optional(OrNull(Type.Enum([...RESTART_POLICY_SETTINGS]), `one of ${oneOf(RESTART_POLICY_SETTINGS)}`)),
    start_timeout_seconds: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 86_400 }), 'whole seconds from 1 to 86400')),
    image_pull_policy: Type.Optional(OrNull(Type.Enum([...PULL_POLICIES]), `one of ${oneOf(PULL_POLICIES)}`)),
    image_pull_secrets: Type.Optional(OrNull(Type.Array(Type.Union([Type.String(), Type.Object({ name: Type.String() }, { additionalProperties: false })], { description: 'the name of a Secret' })), 'a list of secret names')),
    volumes: Type.Optional(OrNull(Type.Record(Type.String(), Volume), 'a mapping of host path to {bind, mode}')),
    public_url: Type.Optional(OrNull(Type.String(), 'an http:// or https:// URL')),
    service_type: Type.Optional(OrNull(Type.Enum([...SERVICE_TYPES]), `one of ${oneOf(SERVICE_TYPES)}`)),
    nodeSelector: Type.Optional(OrNull(StringMap('a mapping of names to strings'), 'a mapping of names to strings')),
    tolerations: Type.Optional(OrNull(Type.Array(Toleration), 'a list of Kubernetes tolerations')),
    affinity: Type.Optional(
      OrNull(Type.Object({ nodeAffinity: Type.Optional(KubernetesObject), podAffinity: Type.Optional(KubernetesObject), podAntiAffinity: Type.Optional(KubernetesObject) }, { additionalProperties: false }), 'a mapping with nodeAffinity, podAffinity and/or podAntiAffinity'),
    ),
    labels: Type.Optional(OrNull(StringMap('a mapping of names to strings'), 'a mapping of names to strings')),
    annotations: Type.Optional(OrNull(StringMap('a mapping of names to strings'), 'a mapping of names to strings')),
    image_tag: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: TAG_HELP })),
    environment: Type.Optional(OrNull(Type.Union([StringMap('a mapping of NAME: value'), Type.Array(Type.String())]), 'a mapping of NAME: value, or a list of "NAME=value"')),
    unset_env: Type.Optional(OrNull(Type.Array(Type.String({ description: `a variable name (${ENV_NAME_HELP})` })), 'a list of variable names such as [API_KEY, DEBUG]')),
  },
  { additionalProperties: false, description: 'a YAML mapping of keys such as image, env and resources' },
);

/** What the API takes: the YAML text Mage documents, or the same content as a JSON object. */
export const ContainerConfigInput = Type.Union([Type.String({ description: 'YAML text' }), ContainerConfigShape], {
  description: 'YAML text, or a mapping of keys such as image, env and resources',
});

/** The keys the shape allows, in the order the errors list them. */
export const SHAPE_KEYS: readonly string[] = Object.keys(ContainerConfigShape.properties);

const shapeCheck = Compile(ContainerConfigShape);

/** Errors naming each field whose value is not of the shape; none when it is. */
export function containerConfigShapeErrors(value: unknown, field = 'container_config'): FieldError[] {
  if (shapeCheck.Check(value)) return [];
  return explain(ContainerConfigShape, value, field);
}

/** The same for what a request sent (YAML text passes: its content is checked once parsed). */
export function containerConfigInputShapeErrors(value: unknown, field = 'container_config'): FieldError[] {
  return explain(ContainerConfigInput, value, field);
}

/** The parts of a JSON schema the explanation reads. */
interface SchemaNode {
  description?: string;
  type?: string;
  anyOf?: SchemaNode[];
  enum?: unknown[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  required?: string[];
}

/**
 * Walks the schema along the value to the fields at fault, so each error names its field and says
 * what is allowed there. Only run on a value that failed the check: it does not need to be fast.
 */
function explain(schema: TSchema, value: unknown, field: string, allowed = 'a value of another type'): FieldError[] {
  if (fits(schema, value)) return [];
  const s = schema as SchemaNode;
  // YAML reads 1e309 as Infinity, which no JSON number is: a number all the same, whose size the checks judge.
  if (typeof value === 'number' && !Number.isFinite(value) && sameKind(s, value)) return [];
  const what = s.description ?? allowed;
  const wrong = [{ field, message: `must be ${what}, not ${describe(value)}.` }];

  if (s.anyOf) {
    const branch = s.anyOf.find((b) => sameKind(b, value));
    return branch ? explain(branch as TSchema, value, field, what) : wrong;
  }
  if (s.type === 'array' && Array.isArray(value) && s.items) {
    const items = s.items as TSchema;
    return value.flatMap((item: unknown, i) => explain(items, item, indexPath(field, i)));
  }
  if (s.type === 'object' && isPlainObject(value)) {
    const errors: FieldError[] = [];
    const properties = s.properties ?? {};
    const open = Object.values(s.patternProperties ?? {})[0];
    for (const [key, v] of Object.entries(value)) {
      const at = keyPath(field, key);
      const sub = properties[key] ?? open;
      if (sub) errors.push(...explain(sub as TSchema, v, at));
      else if (schema === ContainerConfigShape) errors.push({ field: at, message: `is not a container_config key; the allowed keys are ${SHAPE_KEYS.join(', ')}.` });
      else errors.push({ field: at, message: `is not allowed here; the allowed keys are ${Object.keys(properties).join(' and ').replace(/ and (?=.* and )/g, ', ')}.` });
    }
    for (const key of s.required ?? []) {
      const sub = properties[key];
      if (sub && !(key in value)) errors.push(...explain(sub as TSchema, undefined, keyPath(field, key)));
    }
    // None found: the only fault was a number past JSON's range, which the checks judge.
    return errors;
  }
  return wrong;
}

/** Value.Check without its type guard, which would leave `value` typed as never when it fails. */
function fits(schema: TSchema, value: unknown): boolean {
  return Value.Check(schema, value);
}

/** Whether a union's branch is the one meant for this value: the same JSON type, whatever else is wrong. */
function sameKind(s: SchemaNode, value: unknown): boolean {
  if (s.anyOf) return s.anyOf.some((b) => sameKind(b, value));
  if (s.enum) return s.enum.some((e) => typeof e === typeof value);
  switch (s.type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
    case 'integer':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return false;
  }
}
