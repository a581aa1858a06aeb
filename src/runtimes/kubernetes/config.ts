// Where the runtime finds its cluster and its default namespace.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface KubeConfigSource {
  kubeConfig?: KubeConfig;
  kubeconfigPath?: string;
  context?: string;
}

/** An explicit KubeConfig, else the file given, else KUBECONFIG / ~/.kube/config / in-cluster. */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  let kc = source.kubeConfig;
  if (!kc) {
    kc = new KubeConfig();
    if (source.kubeconfigPath) kc.loadFromFile(source.kubeconfigPath);
    else kc.loadFromDefault();
  }
  if (source.context) {
    if (!kc.getContextObject(source.context)) throw new Error(`Kubernetes context ${source.context} is not in the kubeconfig`);
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('No Kubernetes cluster is configured (set KUBECONFIG or run in a cluster)');
  return kc;
}

/** The option, else the pod's own namespace when in a cluster, else the context's, else `default`. */
export function defaultNamespace(kc: KubeConfig, option?: string, inClusterFile = IN_CLUSTER_NAMESPACE_FILE): string {
  if (option) return option;
  if (existsSync(inClusterFile)) {
    const ns = readFileSync(inClusterFile, 'utf8').trim();
    if (ns) return ns;
  }
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}
