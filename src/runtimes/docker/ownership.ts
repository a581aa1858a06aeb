// Whose a container or volume is. The engine may be shared by several wsm installations (each with
// its own store) and by people: wsm acts only on what its own installation labelled.
import { PermanentRuntimeError } from '../../core/runtime.js';
import { INSTALLATION_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './spec.js';

export type Owner =
  /** Made by this installation. */
  | 'ours'
  /** Made by wsm, but by another installation, or by a wsm from before installations were labelled. */
  | 'other-installation'
  /** Not made by wsm at all. */
  | 'unmanaged';

export function ownerOf(labels: Record<string, string> | null | undefined, installation: string): Owner {
  if (labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return 'unmanaged';
  return labels[INSTALLATION_LABEL] === installation ? 'ours' : 'other-installation';
}

/** The error for an object of the workspace's name that this installation must leave alone. */
export function nameConflict(kind: 'container' | 'volume', name: string, labels: Record<string, string> | null | undefined, installation: string): PermanentRuntimeError {
  const other = labels?.[INSTALLATION_LABEL];
  let whose: string;
  if (labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) whose = `that wsm does not manage (no label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE})`;
  else if (other) whose = `of another wsm installation (${INSTALLATION_LABEL}=${other}; this one is ${installation})`;
  else whose = `made by a wsm without installation labels (${INSTALLATION_LABEL} missing; this one is ${installation})`;
  return new PermanentRuntimeError(`a ${kind} named ${name} exists ${whose}; wsm leaves it alone: remove it, or choose another workspace name`, 'NameConflict');
}
