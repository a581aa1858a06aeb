// What the routes share: the store, the use cases (app), the controller and the authenticator.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { WorkspaceActions } from '../app/workspace-actions.js';
import type { Controller } from '../controller/controller.js';
import type { Store } from '../store/store.js';
import type { Authenticator } from './auth.js';
import type { ProxyTickets } from '../proxy/sessions.js';
import type { ProxyAddressing } from '../proxy/addressing.js';

export interface ServerContext {
  store: Store;
  controller: Controller;
  actions: WorkspaceActions;
  auth: Authenticator;
  version: string;
  /** The workspace proxy, when it is on: where it serves each workspace, and where browsers' tickets are kept. */
  proxy?: { addressing: ProxyAddressing; tickets: ProxyTickets };
  /** The clock dormancy and schedules are shown by (the same as the leader's duties'); default Date.now. */
  clock?: () => number;
}

/** The server as routes see it: request and reply types come from the routes' TypeBox schemas. */
export type WsmApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
