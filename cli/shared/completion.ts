// `dsched completion bash|zsh`: one completion function for every dsched command. The yargs commands answer
// `CMD --get-yargs-completions WORDS...` with their options and subcommands; dsubmit parses its own
// arguments (HTCondor's and qsub's, which yargs cannot), so it completes file names only, and it is never
// run for completion.
import { commandNames } from './version.js';
import { EXIT } from './run-cli.js';

export function completionScript(shell: string): string {
  const yargsCommands = commandNames().filter((c) => c !== 'dsubmit');
  const lines = [
    '# dsched shell completion: source this file, or add it to ~/.bashrc (bash) or ~/.zshrc (zsh)',
    shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit' : '',
    '_dsched_complete() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" words',
    '  words=$("${COMP_WORDS[0]}" --get-yargs-completions "${COMP_WORDS[@]:0:$((COMP_CWORD + 1))}" 2>/dev/null)',
    '  # HTCondor spells the options with one dash: offer -nobatch when the user typed -no',
    '  if [[ "$cur" == -* && "$cur" != --* ]]; then words=$(printf "%s\\n" $words | sed "s/^--/-/"); fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    `complete -o bashdefault -o default -F _dsched_complete ${yargsCommands.join(' ')}`,
    'complete -o default dsubmit',
  ];
  return lines.filter((l) => l !== '').join('\n') + '\n';
}

export function completion(shell: string): number {
  process.stdout.write(completionScript(shell));
  return EXIT.ok;
}
