// The rules the real API server enforces beyond the OpenAPI schema, for the objects wsm sends: name and
// label syntax, required values the schema leaves optional (an Ingress path list, a Service's ports), and
// the links inside a pod template. Messages are worded as the real server words them
// (`spec.rules[0].http.paths: Required value`), so a test sees the same failure on either server.
type Obj = Record<string, any>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function qualifiedName(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name must consist of alphanumeric characters, \'-\', \'_\' or \'.\', with an optional DNS subdomain prefix and \'/\'';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]!];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (!name || name.length > 63 || !QUALIFIED.test(name)) return 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (at most 63)';
  return undefined;
}

function labelProblems(map: Obj | undefined, field: string, values: boolean): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(map ?? {})) {
    const bad = qualifiedName(key);
    if (bad) out.push(`${field}: Invalid value: "${key}": ${bad}`);
    if (values && (typeof value !== 'string' || value.length > 63 || (value !== '' && !QUALIFIED.test(value)))) {
      out.push(`${field}: Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)`);
    }
  }
  return out;
}

function metadataProblems(meta: Obj, field: string, nameRule: 'subdomain' | 'label' | 'dns1035'): string[] {
  const out: string[] = [];
  const name = meta?.name;
  if (name !== undefined) {
    const ok = nameRule === 'subdomain' ? DNS_SUBDOMAIN.test(name) && name.length <= 253 : (nameRule === 'label' ? DNS_LABEL : DNS_1035).test(name) && name.length <= 63;
    if (!ok) out.push(`${field}.name: Invalid value: "${name}": must be a ${nameRule === 'subdomain' ? 'lowercase RFC 1123 subdomain' : nameRule === 'label' ? 'lowercase RFC 1123 label' : 'DNS-1035 label'}`);
  }
  out.push(...labelProblems(meta?.labels, `${field}.labels`, true), ...labelProblems(meta?.annotations, `${field}.annotations`, false));
  return out;
}

const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER = 'container.apparmor.security.beta.kubernetes.io/';

/** The annotations the server reads as pod settings (ValidatePodSpecificAnnotations): seccomp and AppArmor profiles. */
function podAnnotationProblems(annotations: Obj, field: string): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    const v = String(value);
    if ((key === SECCOMP_POD || key.startsWith(SECCOMP_CONTAINER)) && !/^(runtime\/default|docker\/default|unconfined|localhost\/.+)$/.test(v)) {
      out.push(`${field}.annotations.${key}: Invalid value: "${v}": must be a valid seccomp profile`);
    }
    if (key.startsWith(APPARMOR_CONTAINER) && !/^(runtime\/default|unconfined|localhost\/.+)$/.test(v)) {
      out.push(`${field}.annotations[${key}]: Invalid value: "${v}": invalid AppArmor profile name: "${v}"`);
    }
  }
  return out;
}

/**
 * A StatefulSet's pod template is checked by the real server (v1.32) only this far: its labels and the
 * restart policy and the pod-specific annotations. Containers (names, images, env, ports, duplicates) are checked when the StatefulSet
 * controller creates the pod, which the server then refuses (a FailedCreate event), not on the write.
 */
function podTemplateProblems(template: Obj | undefined, field: string): string[] {
  if (!template?.spec) return [`${field}.spec: Required value`];
  const out = labelProblems(template.metadata?.labels, `${field}.labels`, true);
  out.push(...labelProblems(template.metadata?.annotations, `${field}.annotations`, false));
  out.push(...podAnnotationProblems(template.metadata?.annotations ?? {}, field));
  if (template.spec.restartPolicy && template.spec.restartPolicy !== 'Always') out.push(`${field}.spec.restartPolicy: Unsupported value: "${template.spec.restartPolicy}": supported values: "Always"`);
  return out;
}

function ingressProblems(spec: Obj | undefined): string[] {
  const out: string[] = [];
  const rules = (spec?.rules ?? []) as Obj[];
  if (!spec?.defaultBackend && rules.length === 0) out.push('spec: Invalid value: either `defaultBackend` or `rules` must be specified');
  rules.forEach((rule, i) => {
    const f = `spec.rules[${i}]`;
    if (rule.host !== undefined && !DNS_SUBDOMAIN.test(String(rule.host).replace(/^\*\./, ''))) out.push(`${f}.host: Invalid value: "${rule.host}": must be a DNS-1123 subdomain`);
    if (!rule.http) return;
    const paths = (rule.http.paths ?? []) as Obj[];
    if (paths.length === 0) out.push(`${f}.http.paths: Required value`);
    paths.forEach((p, j) => {
      const pf = `${f}.http.paths[${j}]`;
      if (!p.pathType) out.push(`${pf}.pathType: Required value: pathType must be specified`);
      if (p.path !== undefined && p.path !== '' && !String(p.path).startsWith('/')) out.push(`${pf}.path: Invalid value: "${p.path}": must be an absolute path`);
      const svc = p.backend?.service;
      if (!svc && !p.backend?.resource) out.push(`${pf}.backend: Invalid value: "": resource or service backend is required`);
      if (svc && !svc.port?.name && svc.port?.number === undefined) out.push(`${pf}.backend.service.port: Invalid value: port name or number is required`);
    });
  });
  return out;
}

function serviceProblems(spec: Obj | undefined): string[] {
  const out: string[] = [];
  if (spec?.type === 'ExternalName') return out;
  const ports = (spec?.ports ?? []) as Obj[];
  if (ports.length === 0) out.push('spec.ports: Required value');
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (!(p.port >= 1 && p.port <= 65535)) out.push(`spec.ports[${i}].port: Invalid value: ${p.port}: must be between 1 and 65535, inclusive`);
    if (ports.length > 1 && !p.name) out.push(`spec.ports[${i}].name: Required value`);
    if (p.name) {
      if (names.has(p.name)) out.push(`spec.ports[${i}].name: Duplicate value: "${p.name}"`);
      names.add(p.name);
    }
  });
  out.push(...labelProblems(spec?.selector, 'spec.selector', true));
  return out;
}

function statefulSetProblems(spec: Obj | undefined): string[] {
  if (!spec) return ['spec: Required value'];
  const out: string[] = [];
  const selector = spec.selector?.matchLabels;
  if (!selector || Object.keys(selector).length === 0) out.push('spec.selector: Invalid value: empty selector is invalid for statefulset');
  out.push(...podTemplateProblems(spec.template, 'spec.template'));
  if (spec.replicas !== undefined && spec.replicas < 0) out.push(`spec.replicas: Invalid value: ${spec.replicas}: must be greater than or equal to 0`);
  return out;
}

/** What the real API server would reject in `obj` of `plural`, beyond its schema; empty when nothing. */
export function semanticProblems(plural: string, obj: Obj): string[] {
  const nameRule = plural === 'services' ? 'dns1035' : 'subdomain';
  const out = metadataProblems(obj.metadata ?? {}, 'metadata', nameRule);
  switch (plural) {
    case 'ingresses':
      out.push(...ingressProblems(obj.spec));
      break;
    case 'services':
      out.push(...serviceProblems(obj.spec));
      break;
    case 'statefulsets':
      out.push(...statefulSetProblems(obj.spec));
      break;
    case 'configmaps':
      for (const key of Object.keys({ ...obj.data, ...obj.binaryData })) {
        if (!CONFIG_KEY.test(key) || key.length > 253) out.push(`data[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
      }
      break;
  }
  return out;
}

/** StatefulSet spec fields the real server lets an update change; any other change is forbidden. */
export const STATEFULSET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
