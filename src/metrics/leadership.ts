// Who leads, as every replica sees itself: wsm_leader is 1 on the one replica that runs the controller
// (sum() over replicas is 1 when all is well, 0 during a failover, never 2), wsm_leader_term its term.
import { Gauge, type Registry } from 'prom-client';

export interface LeadershipView {
  readonly leading: boolean;
  readonly term: number | undefined;
}

export function defineLeadershipGauges(registry: Registry, view: LeadershipView): void {
  new Gauge({
    name: 'wsm_leader',
    help: 'Whether this replica is the leader (runs the controller, the culler and scheduled work): 1 or 0.',
    registers: [registry],
    collect() {
      this.set(view.leading ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wsm_leader_term',
    help: 'The term this replica leads in; 0 while it follows.',
    registers: [registry],
    collect() {
      this.set(view.term ?? 0);
    },
  });
}
