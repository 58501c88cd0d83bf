// What an expression can read, and how a Requirements expression splits into conjuncts: the static analysis
// that lets the matchmaker evaluate a job's Requirements once per slot class instead of once per slot.
import { exprChildren as children, referencedAttrs, type ClassAd, type Expr } from '../../grammar/classad/index.js';

export interface ExprRefs {
  my: readonly string[];
  target: readonly string[];
  unscoped: readonly string[];
  /** eval() builds attribute names at run time: anything can be read */
  dynamic: boolean;
}

const refCache = new WeakMap<Expr, ExprRefs>();

function callsEval(e: Expr): boolean {
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'call' && x.name.toLowerCase() === 'eval') return true;
    for (const c of children(x)) stack.push(c);
  }
  return false;
}

/** Lower-cased attribute names an expression names, by scope (cached per tree: trees are immutable). */
export function refsOf(e: Expr): ExprRefs {
  let r = refCache.get(e);
  if (!r) {
    const x = referencedAttrs(e);
    r = { my: [...x.my], target: [...x.target], unscoped: [...x.unscoped], dynamic: callsEval(e) };
    refCache.set(e, r);
  }
  return r;
}

/**
 * Where the slot-side attribute expressions live: for an attribute name (lower case), every distinct
 * expression any slot gives it. The closure follows them because a slot attribute may itself be an
 * expression over other attributes (Requirements = START, IsFast = KFlops > 1e6).
 */
export type SlotExprSource = (name: string) => Iterable<Expr>;

/** What evaluating `e` can read: slot attributes (lower case) and whether any read is dynamic. */
export interface Reach {
  slot: Set<string>;
  job: Set<string>;
  dynamic: boolean;
}

/**
 * The slot and job attributes an expression can read, following attribute expressions on both sides.
 * `side` is where MY is: 'job' for the job's Requirements/Rank, 'slot' for the slot's START/Requirements/Rank.
 * Unscoped names resolve in MY first, then in TARGET: on both sides unless the job (as MY) defines them.
 */
export function reach(e: Expr, side: 'job' | 'slot', job: ClassAd, slotExprs: SlotExprSource, into?: Reach): Reach {
  const out: Reach = into ?? { slot: new Set(), job: new Set(), dynamic: false };
  const stack: Array<[Expr, 'job' | 'slot']> = [[e, side]];
  const visitJob = (n: string) => {
    if (out.job.has(n)) return;
    out.job.add(n);
    const x = job.get(n);
    if (x) stack.push([x, 'job']);
  };
  const visitSlot = (n: string) => {
    if (out.slot.has(n)) return;
    out.slot.add(n);
    for (const x of slotExprs(n)) stack.push([x, 'slot']);
  };
  while (stack.length) {
    const [x, s] = stack.pop()!;
    const r = refsOf(x);
    if (r.dynamic) out.dynamic = true;
    for (const n of r.my) (s === 'job' ? visitJob : visitSlot)(n);
    for (const n of r.target) (s === 'job' ? visitSlot : visitJob)(n);
    for (const n of r.unscoped) {
      // an unscoped name resolves in MY first: a name the job defines never reaches the slot from the job's
      // side (the slots' definitions vary, so from their side both count)
      if (s === 'job' && job.get(n)) visitJob(n);
      else {
        visitJob(n);
        visitSlot(n);
      }
    }
  }
  return out;
}

/**
 * The top-level conjuncts of an expression: `(a && b) && c` → [a, b, c]. isTrue(a && b) holds exactly when
 * isTrue(a) and isTrue(b) hold (ClassAd && is true only for two true operands), so a match can test the
 * conjuncts one by one, in any order. `inline(name)` may return the expression of an attribute of MY to
 * split further (a slot's Requirements = START); cycles and deep chains are left whole.
 */
export function conjuncts(e: Expr, inline?: (name: string) => Expr | undefined): Expr[] {
  const out: Expr[] = [];
  const seen = new Set<string>();
  const walk = (x: Expr, depth: number) => {
    while (x.kind === 'paren') x = x.expr;
    if (x.kind === 'binary' && x.op === '&&') {
      walk(x.left, depth);
      walk(x.right, depth);
      return;
    }
    if (inline && depth < 8 && x.kind === 'attr' && !x.absolute) {
      const s = x.scope;
      const mine =
        !s || (s.kind === 'attr' && !s.scope && !s.absolute && ['my', 'self'].includes(s.name.toLowerCase()));
      const key = x.name.toLowerCase();
      if (mine && !seen.has(key)) {
        const def = inline(key);
        if (def) {
          seen.add(key);
          walk(def, depth + 1);
          seen.delete(key);
          return;
        }
      }
    }
    out.push(x);
  };
  walk(e, 0);
  return out;
}
