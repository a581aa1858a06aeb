// The API server names fields of the objects wsm writes; a dry run's refusal names the workspace API's
// field they came from, with what follows kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiFieldOf } from '../../../src/runtimes/kubernetes/dry-run.js';

test('fields of the StatefulSet, Service and ConfigMap map to the workspace API fields they come from', () => {
  const cases: [Parameters<typeof apiFieldOf>[0], string | undefined, string][] = [
    ['statefulset', 'spec.template.spec.containers[0].resources.requests', 'container_config.resources.requests'],
    ['statefulset', 'spec.template.spec.containers[0].image', 'container_config.image'],
    ['statefulset', 'spec.template.spec.initContainers[0].image', 'container_config.image'],
    ['statefulset', 'spec.template.spec.containers[0].env[2].name', 'container_config.env[2].name'],
    ['statefulset', 'spec.template.spec.containers[0].imagePullPolicy', 'container_config.image_pull_policy'],
    ['statefulset', 'spec.template.spec.containers[0].lifecycle.postStart', 'lifecycle_config.post_start'],
    ['statefulset', 'spec.template.spec.affinity.nodeAffinity', 'container_config.affinity.nodeAffinity'],
    ['statefulset', 'spec.template.spec.tolerations[0].effect', 'container_config.tolerations[0].effect'],
    ['statefulset', 'spec.template.annotations.seccomp.security.alpha.kubernetes.io/pod', 'container_config.annotations["seccomp.security.alpha.kubernetes.io/pod"]'],
    ['statefulset', 'spec.template.annotations[container.apparmor.security.beta.kubernetes.io/ws-container]', 'container_config.annotations["container.apparmor.security.beta.kubernetes.io/ws-container"]'],
    ['statefulset', 'spec.template.labels', 'container_config.labels'],
    ['statefulset', 'metadata.name', 'container_config'],
    ['statefulset', undefined, 'container_config'],
    ['service', 'spec.type', 'container_config.service_type'],
    ['service', 'spec.ports[0].targetPort', 'container_config.port'],
    ['configmap', 'data', 'lifecycle_config'],
  ];
  for (const [kind, field, want] of cases) assert.equal(apiFieldOf(kind, field), want, `${kind} ${field}`);
});
