// How HTCondor tools name jobs on the command line: `123` (a cluster), `123.4` (a job), `alice` (a user),
// `-constraint EXPR`, `-all`; and PBS's ids as dsubmit prints them (`123.host`, `123[].host`, `123[4].host`).
// Shared by dq, dhistory, drm, dhold, drelease.
import { parseExpr } from '../../grammar/classad/index.js';
import { JOB_NAME_ATTRS, warnUnquotedNames } from './unquoted-names.js';
import { notAJobId, parseJobId } from './job-id.js';

export interface Selection {
  ids: Array<{ cluster: number; proc: number }>;
  owners: string[];
  constraint: string;
  /** The subjobs named (`12[4]`) of clusters named by subjobs only: each is its cluster in `ids`, narrowed by `constraint`. */
  subjobs?: Array<{ cluster: number; index: number }>;
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
    for (const index of indexes) (sel.subjobs ??= []).push({ cluster: c, index });
    cs.push(`ClusterId != ${c} || ${indexes.map((i) => `PbsArrayIndex == ${i}`).join(' || ')}`);
  }
  for (const c of cs) {
    const e = parseExpr(c, { file: '<-constraint>', line: 1, column: 1 }); // report syntax errors here, with a caret
    warnUnquotedNames(e, JOB_NAME_ATTRS);
  }
  sel.constraint = cs.map((c) => `(${c})`).join(' && ');
  return sel;
}

export const idText = (id: { cluster: number; proc: number }) =>
  id.proc >= 0 ? `${id.cluster}.${id.proc}` : `${id.cluster}`;
