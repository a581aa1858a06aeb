// How the proxy names a workspace in a URL, and reads the name back from a request. Two ways:
//   path: http://proxy:6790/<name>/…   one origin for every workspace, the /<name> prefix kept;
//   host: http://<name>.<domain>:6790/… one origin per workspace, the path passed on as it is.
// Host routing keeps workspaces apart from each other too: one workspace's scripts cannot read
// another's pages, and each gets its own cookie (docs/proxy.md).
import { isDnsLabel } from '../core/names.js';

export type ProxyRouting = { mode: 'path' } | { mode: 'host'; domain: string };

export class ProxyAddressing {
  /**
   * `baseUrl` is the proxy's scheme, host and port as browsers reach it (for host routing, with the
   * domain as host name); asked for late, since a port of 0 is known only once the server listens.
   */
  constructor(
    readonly routing: ProxyRouting,
    private readonly base: () => string,
  ) {}

  /** The proxy's base URL (with host routing, the domain's: no workspace is served there). */
  get baseUrl(): string {
    return this.base();
  }

  get mode(): ProxyRouting['mode'] {
    return this.routing.mode;
  }

  /** Scheme, host and port where the workspace is served (no trailing slash). */
  originOf(name: string): string {
    if (this.routing.mode === 'path') return this.base();
    const base = new URL(this.base());
    base.hostname = `${name}.${base.hostname}`;
    return base.origin;
  }

  /** The path a browser lands on when it names no page. */
  homePath(name: string): string {
    return this.routing.mode === 'path' ? `/${name}/` : '/';
  }

  /** A workspace's proxy_url. */
  workspaceUrl(name: string): string {
    return `${this.originOf(name)}${this.homePath(name)}`;
  }

  /** The workspace a request is for: the first path segment, or the first label of the host name. */
  workspaceOf(hostname: string, url: string): string | undefined {
    if (this.routing.mode === 'path') {
      const first = url.split('?', 1)[0]!.split('/')[1];
      return first && isDnsLabel(first) ? first : undefined;
    }
    const host = hostname.toLowerCase().replace(/\.$/, '');
    const suffix = `.${this.routing.domain}`;
    if (!host.endsWith(suffix)) return undefined;
    const label = host.slice(0, -suffix.length);
    return isDnsLabel(label) ? label : undefined;
  }

  /** Where a browser may be sent back to after signing in: a path of that workspace on this proxy, never another host. */
  safeReturnPath(path: unknown, name: string): string {
    if (typeof path !== 'string') return this.homePath(name);
    if (this.routing.mode === 'path') {
      return path === `/${name}` || path.startsWith(`/${name}/`) || path.startsWith(`/${name}?`) ? path : this.homePath(name);
    }
    // "//host" and "/\host" are read by browsers as another host.
    return path.startsWith('/') && !/^\/[/\\]/.test(path) ? path : '/';
  }

  /** What a request names when it names no workspace: said to the person who sent it. */
  get noWorkspaceMessage(): string {
    return this.routing.mode === 'path'
      ? 'The proxy serves workspaces at /<workspace name>/; this path names none.'
      : `The proxy serves workspaces at <workspace name>.${this.routing.domain}; this host name names none.`;
  }
}
