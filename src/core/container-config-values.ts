// The words some container_config keys take, shared by the shape (container-config-shape.ts) and the checks.
export const RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
export const TOLERATION_OPERATORS = ['Exists', 'Equal'] as const;
export const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
