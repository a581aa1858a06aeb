// Where the proxy sends a running workspace's requests. Local and Docker workspaces (and Kubernetes ones
// whose address wsm can reach: a ClusterIP from inside, a node port, a load balancer) are a host and a
// port; Kubernetes workspaces can also be reached by their Service's DNS name or through the API
// server's service proxy (kube-upstream.ts).
import type { WorkspaceRecord } from '../core/types.js';
import { acceptsConnections } from './reachable.js';

/**
 * How long a workspace may take to send a response's headers, by default. A long poll answers only once
 * something happens: an hour is past any, yet a hung workspace is given up on (504).
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 3_600_000;

export interface Upstream {
  /** scheme://host[:port] of the connection. */
  origin: string;
  /** Put before the request's path (the API server's service proxy path); '' for a direct connection. */
  pathPrefix: string;
  /** Added to the forwarded request: the API server's credentials. The workspace never sees them. */
  headers: Record<string, string>;
  /** Whether the workspace would answer now (after a wake, the program may not listen yet). */
  ready(timeoutMs: number): Promise<boolean>;
}

/** A running workspace's upstream; undefined while it is not running. */
export type UpstreamOf = (ws: WorkspaceRecord) => Upstream | undefined;

export function isRunning(ws: WorkspaceRecord): boolean {
  return ws.desired_state === 'running' && ws.observed.status === 'RUNNING';
}

/** The workspace's `instance.ip` (host:port), connected to directly. */
export const directUpstream: UpstreamOf = (ws) => {
  const address = isRunning(ws) ? ws.observed.ip : undefined;
  if (!address) return undefined;
  return { origin: `http://${address}`, pathPrefix: '', headers: {}, ready: (timeoutMs) => acceptsConnections(address, timeoutMs) };
};

/** Each cluster type's way, the direct one where none is given. */
export function upstreamsByClusterType(byType: Partial<Record<string, UpstreamOf>>): UpstreamOf {
  return (ws) => (byType[ws.cluster_type] ?? directUpstream)(ws);
}
