// `wsm completion bash|zsh`: a completion script made from the command tree itself, so it offers
// exactly the commands and flags this wsm has. Subcommands, flags, the values of flags with a fixed
// set (-o, --role, …), file names for other flag values, and workspace names (asked of the server
// with `wsm ws list -o name`) where a command takes one. zsh uses the same function through its
// bash-completion layer (bashcompinit), which leaves matching the typed prefix to zsh; so no variable
// of the function may be one zsh ties to something (`path` is zsh's $PATH).
import { Argument, type Command, type Option } from 'commander';

interface Node {
  /** The words that lead here, with each alias as its own path: ['ws list', 'workspaces list']. */
  paths: string[];
  command: Command;
}

function walk(command: Command, paths: string[], into: Node[]): Node[] {
  into.push({ paths, command });
  for (const sub of command.commands) {
    const names = [sub.name(), ...sub.aliases()];
    walk(sub, paths.flatMap((p) => names.map((n) => (p ? `${p} ${n}` : n))), into);
  }
  return into;
}

const flagsOf = (options: readonly Option[]) => options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
const valued = (o: Option) => o.required || o.optional;
/** The words as a quoted case pattern: "ws list"|"workspaces list". */
const pattern = (paths: string[]) => paths.map((p) => `"${p}"`).join('|');

/** Which commands take a workspace name as their first argument. */
const takesWorkspace = (c: Command) => c.registeredArguments[0]?.name() === 'name' && c.parent?.name() === 'workspaces';

export function bashCompletion(program: Command): string {
  const nodes = walk(program, [''], []);
  const globals = program.options;
  const allOptions = nodes.flatMap((n) => [...n.command.options]);
  const subs = nodes.filter((n) => n.command.commands.length > 0).map((n) => `    ${pattern(n.paths)}) echo "${n.command.commands.flatMap((c) => [c.name(), ...c.aliases()]).join(' ')}" ;;`);
  const flags = nodes.map((n) => `    ${pattern(n.paths)}) echo "${[...new Set([...flagsOf(n.command.options), ...flagsOf(globals), '--help'])].join(' ')}" ;;`);
  const choiceLines = new Map<string, string>();
  for (const o of allOptions) if (o.argChoices?.length) choiceLines.set(flagsOf([o]).join('|'), o.argChoices.join(' '));
  choiceLines.set('completion', 'bash zsh');
  const valuedFlags = [...new Set(flagsOf(allOptions.filter(valued)))];
  const named = nodes.filter((n) => takesWorkspace(n.command)).flatMap((n) => n.paths);
  return `# wsm completion for bash. Load it now with: source <(wsm completion bash)
# or for good with: wsm completion bash > /etc/bash_completion.d/wsm
_wsm_subcommands() {
  case "$1" in
${subs.join('\n')}
  esac
}
_wsm_flags() {
  case "$1" in
${flags.join('\n')}
  esac
}
_wsm_values() {
  case "$1" in
${[...choiceLines].map(([flag, values]) => `    ${flag}) echo "${values}" ;;`).join('\n')}
  esac
}
_wsm() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" words_path="" word i
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    case " $(_wsm_subcommands "$words_path") " in
      *" $word "*) words_path="\${words_path:+$words_path }$word" ;;
    esac
  done
  local values
  values="$(_wsm_values "$prev")"
  if [[ -z "$words_path" && "$prev" == completion ]]; then values="$(_wsm_values completion)"; fi
  if [[ -n "$values" ]]; then
    COMPREPLY=( $(compgen -W "$values" -- "$cur") )
    return
  fi
  case " ${valuedFlags.join(' ')} " in
    *" $prev "*) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(_wsm_flags "$words_path")" -- "$cur") )
    return
  fi
  local subs
  subs="$(_wsm_subcommands "$words_path")"
  if [[ -n "$subs" ]]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
    return
  fi
  case "$words_path" in
    ${named.length ? pattern(named) : '""'}) COMPREPLY=( $(compgen -W "$(\${COMP_WORDS[0]} workspaces list -o name 2>/dev/null)" -- "$cur") ) ;;
  esac
}
complete -F _wsm wsm
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef wsm
# wsm completion for zsh. Load it now with: source <(wsm completion zsh)
# or for good: wsm completion zsh > "\${fpath[1]}/_wsm" (then start a new shell)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(wsm completion bash), or zsh')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
