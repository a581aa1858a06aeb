// Dormancy, the leader's part: every period, the dormant workspaces (core/dormancy.ts) are read from
// the store's filter, and with delete_dormant_after_days set each one's owner is warned (an audit
// event, and the warning kept on the workspace, which its watchers see) and, once the announced time
// has come, the workspace is deleted (its volume kept unless delete_dormant_volume). A workspace resumed
// or changed meanwhile is no longer dormant, and its warning no longer counts. The clock is injected.
import { dormancyStep, dormantCutoff, type DormancyStep } from '../core/dormancy.js';
import type { WorkspaceRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../lib/logger.js';

export interface DormancyActor {
  dormancy(name: string, decide: (ws: WorkspaceRecord) => DormancyStep | undefined, now: () => string): Promise<DormancyStep | undefined>;
}

export interface DormancyOptions {
  periodMs: number;
  now?: () => number;
  pageSize?: number;
}

export interface DormancyPass {
  warned: string[];
  deleted: string[];
}

export class DormancyKeeper {
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly actor: DormancyActor,
    private readonly logger: Logger,
    private readonly options: DormancyOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pass().catch((err) => this.logger.error({ err }, 'dormancy pass failed')), this.options.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async pass(): Promise<DormancyPass> {
    const result: DormancyPass = { warned: [], deleted: [] };
    const settings = await this.store.getClusterSettings();
    const now = this.now();
    const cutoff = dormantCutoff(settings, now);
    if (cutoff === undefined || settings.delete_dormant_after_days === undefined) return result;
    // Names first: a deletion would shift the pages being read.
    const names: string[] = [];
    const pageSize = this.options.pageSize ?? 500;
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.store.listWorkspaces({ dormant: { cutoff, dormant: true }, limit: pageSize, offset });
      names.push(...page.workspaces.map((ws) => ws.name));
      if (page.workspaces.length < pageSize) break;
    }
    for (const name of names) {
      try {
        const step = await this.actor.dormancy(name, (ws) => dormancyStep(ws, settings, now), () => new Date(now).toISOString());
        if (step?.kind === 'warn') {
          result.warned.push(name);
          this.logger.warn({ workspace: name, deletesAt: step.deletes_at }, 'dormant workspace: its owner is warned of its deletion');
        } else if (step?.kind === 'delete') {
          result.deleted.push(name);
          this.logger.warn({ workspace: name, deleteVolume: step.delete_volume }, 'dormant workspace deleted');
        }
      } catch (err) {
        this.logger.warn({ workspace: name, err }, 'dormancy could not act on the workspace');
      }
    }
    return result;
  }
}
