// Whose an object is. A namespace may hold the workspaces of several wsm installations, and objects
// people made: wsm changes or deletes only what its own installation labelled.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { LABEL_INSTALLATION, LABEL_MANAGED_BY, MANAGED_BY } from '../../core/defaults.js';
import { PermanentRuntimeError } from '../../core/runtime.js';

export function isOurs(metadata: V1ObjectMeta | undefined, installation: string): boolean {
  const labels = metadata?.labels;
  return labels?.[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_INSTALLATION] === installation;
}

/** The label selector of this installation's objects (the pods carry no installation label: see manifests.ts). */
export function ownedSelector(installation: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_INSTALLATION}=${installation}`;
}

/** Throws NameConflict when the object exists and is not this installation's. */
export function checkOurs(object: { metadata?: V1ObjectMeta } | undefined, kind: string, installation: string): void {
  if (object === undefined || isOurs(object.metadata, installation)) return;
  const labels = object.metadata?.labels;
  const name = object.metadata?.name ?? '?';
  let whose: string;
  if (labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) whose = `that wsm does not manage (no label ${LABEL_MANAGED_BY}=${MANAGED_BY})`;
  else if (labels[LABEL_INSTALLATION]) whose = `of another wsm installation (${LABEL_INSTALLATION}=${labels[LABEL_INSTALLATION]}; this one is ${installation})`;
  else whose = `made by a wsm without installation labels (to adopt it: kubectl label ${kind} ${name} ${LABEL_INSTALLATION}=${installation})`;
  throw new PermanentRuntimeError(`a ${kind} named ${name} exists ${whose}; wsm leaves it alone: remove it, or choose another workspace name`, 'NameConflict');
}
