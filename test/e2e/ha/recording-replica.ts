// One wsm replica as `wsm serve` runs it, configured by the usual WSM_* variables, but with the
// recording runtime (test/support/recording-runtime.ts, state in RECORDING_DIR) as its only engine:
// the tests then count what each replica did to the workspaces. A test aid, not a product feature.
import { resolveServeConfig } from '../../../src/cli/config.js';
import { startServer } from '../../../src/cli/serve.js';
import type { Runtime } from '../../../src/core/runtime.js';
import type { ClusterType } from '../../../src/core/types.js';
import { RecordingRuntime } from '../../support/recording-runtime.js';

const dir = process.env.RECORDING_DIR;
if (!dir) throw new Error('RECORDING_DIR must name the directory the replicas share');
const config = resolveServeConfig({ clusterType: 'local' });
const runtimes = new Map<ClusterType, Runtime>([['local', new RecordingRuntime(dir)]]);
const server = await startServer(config, { runtimes });
process.once('SIGTERM', () => void server.drain(config.drainSeconds * 1000).then(() => server.close()).then(() => process.exit(0)));
