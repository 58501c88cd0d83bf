// Which attributes an expression refers to, by scope (used for autoclusters and default Requirements).
import type { Expr } from './ast.js';
import { children } from './ast.js';

const SCOPE_MY = new Set(['my', 'self']);

/** Lower-cased attribute names referenced as MY.x, TARGET.x and plain x. */
export function referencedAttrs(e: Expr): { my: Set<string>; target: Set<string>; unscoped: Set<string> } {
  const out = { my: new Set<string>(), target: new Set<string>(), unscoped: new Set<string>() };
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'attr') {
      const key = x.name.toLowerCase();
      if (x.absolute) {
        out.unscoped.add(key);
        continue;
      }
      if (!x.scope) {
        if (!SCOPE_MY.has(key) && key !== 'target') out.unscoped.add(key);
        continue;
      }
      const s = x.scope;
      if (s.kind === 'attr' && !s.scope && !s.absolute) {
        const sk = s.name.toLowerCase();
        if (SCOPE_MY.has(sk)) {
          out.my.add(key);
          continue;
        }
        if (sk === 'target') {
          out.target.add(key);
          continue;
        }
      }
      stack.push(s);
      continue;
    }
    for (const c of children(x)) stack.push(c);
  }
  return out;
}
