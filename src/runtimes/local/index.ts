// The `local` cluster type: workspaces as process groups on this machine.
export { LocalRuntime, type LocalRuntimeOptions, type LocalRuntimeLogger } from './runtime.js';
