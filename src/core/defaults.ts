// Names and defaults every layer agrees on. They mirror what Mage creates, so existing clusters look familiar.
import type { StorageSpec } from './types.js';

export const DEFAULT_PORT = 6789;
export const DEFAULT_MOUNT_PATH = '/home/src';
/** Used when neither the workspace nor the cluster settings name an image. */
export const DEFAULT_IMAGE = 'mageai/mageai:latest';

export const DEFAULT_STORAGE: StorageSpec = {
  access_mode: 'ReadWriteMany',
  request_size: '2Gi',
  retention_policy: 'Retain',
  mount_path: DEFAULT_MOUNT_PATH,
};

export const LABEL_APP = 'app';
export const LABEL_DEV_INSTANCE = 'dev-instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'wsm';
/**
 * Which wsm installation made an object. Several installations may share a Docker engine or a
 * namespace; a runtime never touches an object of another one (it reports NameConflict).
 */
export const LABEL_INSTALLATION = 'wsm.io/installation';
/** The form of an installation id: a label value on Docker and Kubernetes alike. */
export const INSTALLATION_ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Labels wsm sets itself; a user's container_config may not override them (selectors and ownership depend on them). */
export const RESERVED_LABELS: readonly string[] = [LABEL_APP, LABEL_DEV_INSTANCE, LABEL_MANAGED_BY, LABEL_INSTALLATION];

/** The labels every object of a workspace carries. */
export function workspaceLabels(name: string): Record<string, string> {
  return { [LABEL_APP]: name, [LABEL_DEV_INSTANCE]: '1', [LABEL_MANAGED_BY]: MANAGED_BY };
}

export const dockerContainerName = (name: string): string => `wsm-${name}`;
export const dockerVolumeName = (name: string): string => `wsm-${name}-data`;

export const statefulSetName = (name: string): string => name;
export const serviceName = (name: string): string => `${name}-service`;
export const hooksConfigMapName = (name: string): string => `${name}-hooks`;
export const containerName = (name: string): string => `${name}-container`;
export const VOLUME_NAME = 'mage-data';
/** The PVC a StatefulSet's volumeClaimTemplate makes for replica 0. */
export const pvcName = (name: string): string => `${VOLUME_NAME}-${name}-0`;
