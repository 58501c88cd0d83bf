// How HTCondor tools name jobs on the command line: `123` (a cluster), `123.4` (a job), `alice` (a user),
// `-constraint EXPR`, `-all`; and PBS's ids as dsubmit prints them (`123.host`, `123[].host`, `123[4].host`).
// Shared by dq, dhistory, drm, dhold, drelease.
import { exprChildren, parseExpr, type Expr } from '../../grammar/classad/index.js';
import { io } from './io.js';
import { notAJobId, parseJobId } from './job-id.js';

export interface Selection {
  ids: Array<{ cluster: number; proc: number }>;
  owners: string[];
  constraint: string;
}

export function parseSelection(words: Array<string | number>, constraint?: string | string[]): Selection {
  const sel: Selection = { ids: [], owners: [], constraint: '' };
  // PBS ids as dsubmit prints them (job-id.ts): C.host and C[].host are the cluster, C[I].host one subjob
  const subjobs = new Map<number, number[]>();
  for (const w0 of words) {
    const w = String(w0);
    const id = parseJobId(w);
    if (id?.index !== undefined) subjobs.set(id.cluster, [...(subjobs.get(id.cluster) ?? []), id.index]);
    else if (id) sel.ids.push(id);
    else if (/^[A-Za-z_][\w.@-]*$/.test(w)) sel.owners.push(w);
    else throw notAJobId(w, 'a user name');
  }
  const cs = (Array.isArray(constraint) ? constraint : constraint ? [constraint] : []).filter(Boolean);
  // a subjob is its cluster narrowed to the array index (unless the whole cluster is named too)
  for (const [c, indexes] of subjobs) {
    if (sel.ids.some((id) => id.cluster === c && id.proc < 0)) continue;
    sel.ids.push({ cluster: c, proc: -1 });
    cs.push(`ClusterId != ${c} || ${indexes.map((i) => `PbsArrayIndex == ${i}`).join(' || ')}`);
  }
  for (const c of cs) {
    const e = parseExpr(c, { file: '<-constraint>', line: 1, column: 1 }); // report syntax errors here, with a caret
    for (const [attr, name] of unquotedNames(e))
      io().stderr.write(
        `${io().command ?? 'dq'}: warning: -constraint compares ${attr} with an attribute named ${name}, not with the name "${name}" (write ${attr} == "${name}")\n`,
      );
  }
  sel.constraint = cs.map((c) => `(${c})`).join(' && ');
  return sel;
}

export const idText = (id: { cluster: number; proc: number }) =>
  id.proc >= 0 ? `${id.cluster}.${id.proc}` : `${id.cluster}`;

/** Attributes whose value is a name: `Owner == alice` is an easy slip for `Owner == "alice"`. */
const NAME_ATTRS = new Set(['owner', 'user', 'acctgroup', 'accountinggroup', 'jobbatchname', 'dagnodename', 'queue']);
const EQUALITY = new Set(['==', '!=', '=?=', '=!=']);

/**
 * `Owner == alice` compares Owner with an attribute alice no job has: it matches nothing (condor_q too says
 * nothing). Each such [attribute, bare name] pair, for a warning.
 */
function unquotedNames(e: Expr): Array<[string, string]> {
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
        if (bare(a) && bare(b) && NAME_ATTRS.has(a.name.toLowerCase()) && !NAME_ATTRS.has(b.name.toLowerCase()))
          out.push([a.name, b.name]);
    stack.push(...exprChildren(x));
  }
  return out;
}
