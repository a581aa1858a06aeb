// The restart policy a workspace's container_config names, in wsm's words (Mage's Docker spellings
// mean the same: `no` is never, `unless-stopped` is always). Absent: always, as Kubernetes does.
import type { ContainerConfig, RestartPolicy } from './types.js';

export function restartPolicyOf(container: ContainerConfig): RestartPolicy {
  switch (container.restart_policy) {
    case 'never':
    case 'no':
      return 'never';
    case 'on-failure':
      return 'on-failure';
    default:
      return 'always';
  }
}
