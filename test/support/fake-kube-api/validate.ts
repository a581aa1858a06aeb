// Schema checks for every object the fake stores: kubernetes-models validates types, required fields and enums;
// a strict walk over the official client's model metadata rejects unknown fields (what `fieldValidation=Strict`
// does on a real server), so a field in the wrong place cannot pass silently.
import * as k8s from '@kubernetes/client-node';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Event } from 'kubernetes-models/v1/Event';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { Scale } from 'kubernetes-models/autoscaling/v1/Scale';

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: never) => Validatable;

export const MODELS: Record<string, { model: ModelCtor; clientType: string }> = {
  StatefulSet: { model: StatefulSet as unknown as ModelCtor, clientType: 'V1StatefulSet' },
  Service: { model: Service as unknown as ModelCtor, clientType: 'V1Service' },
  ConfigMap: { model: ConfigMap as unknown as ModelCtor, clientType: 'V1ConfigMap' },
  PersistentVolumeClaim: { model: PersistentVolumeClaim as unknown as ModelCtor, clientType: 'V1PersistentVolumeClaim' },
  Pod: { model: Pod as unknown as ModelCtor, clientType: 'V1Pod' },
  Event: { model: Event as unknown as ModelCtor, clientType: 'CoreV1Event' },
  Namespace: { model: Namespace as unknown as ModelCtor, clientType: 'V1Namespace' },
  Ingress: { model: Ingress as unknown as ModelCtor, clientType: 'V1Ingress' },
  Scale: { model: Scale as unknown as ModelCtor, clientType: 'V1Scale' },
};

interface Attribute {
  baseName: string;
  type: string;
}
const registry = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as object)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    }
    return;
  }
  const attributes = registry[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object' || Array.isArray(value)) return;
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value as object)) {
    if (child === undefined) continue; // absent after JSON encoding
    const childType = known.get(key);
    if (childType === undefined) out.push(`${path ? `${path}.` : ''}${key}: unknown field`);
    else unknownFields(child, childType, path ? `${path}.${key}` : key, out);
  }
}

/** Fields of `obj` that the client model `clientType` (e.g. `V1Deployment`) does not have. */
export function unknownFieldProblems(obj: unknown, clientType: string): string[] {
  const out: string[] = [];
  unknownFields(obj, clientType, '', out);
  return out;
}

/** Returns the problems with `obj` as a `kind`, empty when it is valid. */
export function validateObject(kind: string, obj: unknown): string[] {
  const entry = MODELS[kind];
  if (!entry) return [`no schema for kind ${kind}`];
  const problems: string[] = [];
  try {
    new entry.model(obj as never).validate();
  } catch (err) {
    const errors = (err as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (errors?.length) problems.push(...errors.map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`));
    else problems.push(String((err as Error).message));
  }
  unknownFields(obj, entry.clientType, '', problems);
  return problems;
}
