// `Owner == alice` for `Owner == "alice"`: an easy slip in a -constraint, which compares Owner with an
// attribute named alice that no ad has, so it matches nothing and condor_q / condor_status say nothing. dq,
// drm and friends, and dstatus warn of it.
import { exprChildren, type Expr } from '../../grammar/classad/index.js';
import { io } from './io.js';

/** Job attributes whose value is a name. */
export const JOB_NAME_ATTRS = new Set([
  'owner',
  'user',
  'acctgroup',
  'accountinggroup',
  'jobbatchname',
  'dagnodename',
  'queue',
]);

/** Slot and daemon ad attributes whose value is a name (`Machine == node1`, `State == Unclaimed`). */
export const MACHINE_NAME_ATTRS = new Set([
  'machine',
  'name',
  'state',
  'activity',
  'opsys',
  'arch',
  'filesystemdomain',
  'uiddomain',
]);

const EQUALITY = new Set(['==', '!=', '=?=', '=!=']);

/** Warn (on stderr, as `CMD: warning: …`) of each comparison of a name attribute with a bare word in `e`. */
export function warnUnquotedNames(e: Expr, names: ReadonlySet<string>): void {
  for (const [attr, name] of unquotedNames(e, names))
    io().stderr.write(
      `${io().command ?? 'dq'}: warning: -constraint compares ${attr} with an attribute named ${name}, not with the name "${name}" (write ${attr} == "${name}")\n`,
    );
}

/** Each [attribute, bare name] pair where `e` compares a name attribute with a bare word. */
function unquotedNames(e: Expr, names: ReadonlySet<string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const bare = (x: Expr): x is Extract<Expr, { kind: 'attr' }> => x.kind === 'attr' && !x.scope && !x.absolute;
  const stack = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'binary' && EQUALITY.has(x.op))
      for (const [a, b] of [
        [x.left, x.right],
        [x.right, x.left],
      ] as const)
        if (bare(a) && bare(b) && names.has(a.name.toLowerCase()) && !names.has(b.name.toLowerCase()))
          out.push([a.name, b.name]);
    stack.push(...exprChildren(x));
  }
  return out;
}
