// How HTCondor tools name jobs on the command line: `123` (a cluster), `123.4` (a job), `alice` (a user),
// `-constraint EXPR`, `-all`. Shared by dq, dhistory, drm, dhold, drelease.
import { parseExpr } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';

export interface Selection {
  ids: Array<{ cluster: number; proc: number }>;
  owners: string[];
  constraint: string;
}

export function parseSelection(words: Array<string | number>, constraint?: string | string[]): Selection {
  const sel: Selection = { ids: [], owners: [], constraint: '' };
  for (const w0 of words) {
    const w = String(w0);
    const m = /^(\d+)(?:\.(\d+))?$/.exec(w);
    if (m) sel.ids.push({ cluster: Number(m[1]), proc: m[2] === undefined ? -1 : Number(m[2]) });
    else if (/^[A-Za-z_][\w.@-]*$/.test(w)) sel.owners.push(w);
    else throw new DschedError('USAGE', `"${w}" is neither a job id (cluster or cluster.proc) nor a user name`);
  }
  const cs = (Array.isArray(constraint) ? constraint : constraint ? [constraint] : []).filter(Boolean);
  for (const c of cs) parseExpr(c, { file: '<-constraint>', line: 1, column: 1 }); // report syntax errors here, with a caret
  sel.constraint = cs.map((c) => `(${c})`).join(' && ');
  return sel;
}

export const idText = (id: { cluster: number; proc: number }) => (id.proc >= 0 ? `${id.cluster}.${id.proc}` : `${id.cluster}`);
