// condor_status -sort EXPR: ads in the order of the values of ClassAd expressions, each breaking the ties of the
// one before. Numbers before strings before the rest; an ad where the expression is undefined or an error
// comes last; ties keep the order they came in.
import { valueToJS, type ClassAd, type Expr } from '../../../grammar/classad/index.js';

function rank(v: unknown): number {
  return typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : 3;
}

function compare(x: unknown, y: unknown): number {
  const r = rank(x) - rank(y);
  if (r) return r;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'string' && typeof y === 'string') return x.localeCompare(y, 'en', { numeric: true });
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  return 0;
}

export function sortAds(ads: readonly ClassAd[], by: readonly Expr[]): ClassAd[] {
  const keyed = ads.map((ad) => ({ ad, keys: by.map((e) => valueToJS(ad.evalExpr(e))) }));
  keyed.sort((p, q) => {
    for (let i = 0; i < by.length; i++) {
      const c = compare(p.keys[i], q.keys[i]);
      if (c) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.ad);
}
