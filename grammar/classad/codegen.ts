// Generates one JS function per expression tree for the shapes matchmaking spends its time on (literals,
// attribute references, comparisons, arithmetic, && || ! and ?:). Each generated function has its own inline
// caches, so V8 optimises it like hand-written code; a closure per node cannot get there because all nodes of
// one kind share one closure body and its (megamorphic) call sites.
//
// Nothing from the expression text is spliced into the generated source: names, strings and numbers are passed
// in the constants array K and lookup sites in S; the source only holds fixed operator spellings and indexes.
// Anything else (function calls, subscripts, lists, nested ads, absolute references) runs through the closure
// compiler (F[i](c)), which also owns every slow path, so the two cannot disagree on semantics.
import type { BinaryExpr, Expr } from './ast.js';
import type { Ctx } from './eval.js';
import * as ev from './eval.js';
import { LookupSite, NOT_CONST } from './slots.js';
import { ERROR, UNDEFINED, boolEquiv, type Value } from './value.js';

export type CompiledFn = (c: Ctx) => Value;

/** The helpers generated code calls (bound once; the generated source refers to them as rt.*). */
const rt = {
  NC: NOT_CONST,
  U: UNDEFINED,
  E: ERROR,
  boolEquiv,
  targetOf: ev.targetOf,
  compare: ev.compare,
  metaEqual: ev.metaEqual,
  metaNotEqual: ev.metaNotEqual,
  arith: ev.arith,
  intArith: ev.intArith,
  bitwise: ev.bitwise,
  andRest: ev.andRest,
  orRest: ev.orRest,
  unaryMinus: ev.unaryMinus,
  unaryPlus: ev.unaryPlus,
  logicalNot: ev.logicalNot,
  bitNot: ev.bitNot,
  select: ev.select,
  strcasecmp: ev.strcasecmp,
};

/** Trees bigger than this stay with closures (huge generated functions optimise badly). */
const MAX_NODES = 400;

/** Whether codegen would help: the tree has an operator or a reference and is not too big. */
export function worthGenerating(e: Expr): boolean {
  let n = 0;
  let useful = false;
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (++n > MAX_NODES) return false;
    switch (x.kind) {
      case 'binary':
        useful = true;
        stack.push(x.left, x.right);
        break;
      case 'unary':
        stack.push(x.operand);
        break;
      case 'paren':
        stack.push(x.expr);
        break;
      case 'cond':
        useful = true;
        stack.push(x.test, x.else);
        if (x.then) stack.push(x.then);
        break;
      case 'attr':
        if (x.scope) stack.push(x.scope);
        break;
      default:
        break;
    }
  }
  return useful;
}

class Gen {
  readonly body: string[] = [];
  readonly K: unknown[] = [];
  readonly S: LookupSite[] = [];
  readonly F: CompiledFn[] = [];
  private n = 0;
  constructor(private readonly closure: (e: Expr) => CompiledFn) {}

  tmp(): string {
    return `v${this.n++}`;
  }
  get temps(): number {
    return this.n;
  }
  k(v: unknown): string {
    this.K.push(v);
    return `K[${this.K.length - 1}]`;
  }
  site(key: string): string {
    this.S.push(new LookupSite(key));
    return `S[${this.S.length - 1}]`;
  }
  fn(e: Expr): string {
    this.F.push(this.closure(e));
    return `F[${this.F.length - 1}]`;
  }
  line(s: string): void {
    this.body.push(s);
  }

  /** Emit code computing e; returns a side-effect-free JS expression (a temp or a constant) holding it. */
  emit(e: Expr): string {
    switch (e.kind) {
      case 'literal':
        return this.k(e.value);
      case 'paren':
        return this.emit(e.expr);
      case 'attr':
        return this.attr(e);
      case 'unary': {
        const x = this.emit(e.operand);
        const v = this.tmp();
        switch (e.op) {
          case '!':
            this.line(`${v} = typeof ${x} === 'boolean' ? !${x} : rt.logicalNot(${x});`);
            break;
          case '-':
            this.line(`${v} = rt.unaryMinus(${x});`);
            break;
          case '+':
            this.line(`${v} = rt.unaryPlus(${x});`);
            break;
          case '~':
            this.line(`${v} = rt.bitNot(${x});`);
            break;
        }
        return v;
      }
      case 'binary':
        return this.binary(e);
      case 'cond': {
        const t = this.emit(e.test);
        const v = this.tmp();
        if (!e.then) {
          this.line(`if (${t} === rt.U) {`);
          const y = this.emit(e.else);
          this.line(`${v} = ${y}; } else ${v} = ${t};`);
          return v;
        }
        const br = this.tmp();
        this.line(
          `if (${t} === true) ${br} = 1; else if (${t} === false) ${br} = 0; else { ${br} = rt.boolEquiv(${t}); ${br} = ${br} === undefined ? -1 : ${br} ? 1 : 0; }`,
        );
        this.line(`if (${br} === 1) {`);
        const x = this.emit(e.then);
        this.line(`${v} = ${x}; } else if (${br} === 0) {`);
        const y = this.emit(e.else);
        this.line(`${v} = ${y}; } else ${v} = ${t} === rt.U ? rt.U : rt.E;`);
        return v;
      }
      default: {
        const v = this.tmp();
        this.line(`${v} = ${this.fn(e)}(c);`);
        return v;
      }
    }
  }

  private attr(e: Extract<Expr, { kind: 'attr' }>): string {
    const v = this.tmp();
    if (e.absolute) {
      this.line(`${v} = ${this.fn(e)}(c);`);
      return v;
    }
    const key = e.name.toLowerCase();
    const slow = this.fn(e); // the closure owns every case the fast path does not take
    if (!e.scope) {
      const s = this.site(key);
      this.line(
        `{ const a = c.ad; let n; if (a !== undefined && (n = a.entryAt(${s})) !== undefined && (${v} = n.konst) !== rt.NC) {} else ${v} = ${slow}(c); }`,
      );
      return v;
    }
    const sc = e.scope;
    if (sc.kind === 'attr' && !sc.scope && !sc.absolute) {
      const sk = sc.name.toLowerCase();
      if (sk === 'target' || sk === 'my' || sk === 'self') {
        const s = this.site(key);
        const which = sk === 'target' ? `(a === c.my ? c.target : rt.targetOf(c, a))` : `a`;
        this.line(
          `{ const a = c.ad; let t, n; if (a !== undefined && a.specialCount === 0 && (t = ${which}) !== undefined && (n = t.entryAt(${s})) !== undefined && (${v} = n.konst) !== rt.NC) {} else ${v} = ${slow}(c); }`,
        );
        return v;
      }
    }
    this.line(`${v} = ${slow}(c);`);
    return v;
  }

  private binary(e: BinaryExpr): string {
    const op = e.op;
    if (op === '&&' || op === '||') return this.logical(e, op);
    const a = this.emit(e.left);
    const b = this.emit(e.right);
    const v = this.tmp();
    const q = JSON.stringify(op); // one of the fixed operator spellings
    switch (op) {
      case '==':
      case '!=':
        if (e.right.kind === 'literal' && typeof e.right.value === 'string') {
          this.line(
            `${v} = typeof ${a} === 'string' ? ((${a} === ${b} || rt.strcasecmp(${a}, ${b}) === 0) === ${op === '=='}) : rt.compare(${q}, ${a}, ${b});`,
          );
          return v;
        }
        return this.relational(op, a, b, v, q);
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.relational(op, a, b, v, q);
      case '=?=':
        this.line(`${v} = rt.metaEqual(${a}, ${b});`);
        return v;
      case '=!=':
        this.line(`${v} = rt.metaNotEqual(${a}, ${b});`);
        return v;
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        this.line(
          `${v} = typeof ${a} === 'bigint' && typeof ${b} === 'bigint' ? rt.intArith(${q}, ${a}, ${b}) : rt.arith(${q}, ${a}, ${b});`,
        );
        return v;
      default:
        this.line(`${v} = rt.bitwise(${q}, ${a}, ${b});`);
        return v;
    }
  }

  private relational(op: string, a: string, b: string, v: string, q: string): string {
    const js = op === '==' ? '===' : op === '!=' ? '!==' : op;
    this.line(
      `${v} = typeof ${a} === 'bigint' && typeof ${b} === 'bigint' ? ${a} ${js} ${b} : rt.compare(${q}, ${a}, ${b});`,
    );
    return v;
  }

  /** a && b && c ... (left-associative, short-circuiting as HTCondor does). */
  private logical(e: BinaryExpr, op: '&&' | '||'): string {
    const terms: Expr[] = [];
    let x: Expr = e;
    while (x.kind === 'binary' && x.op === op) {
      terms.push(x.right);
      x = x.left;
    }
    terms.push(x);
    terms.reverse();
    const r = this.tmp();
    const first = this.emit(terms[0]!);
    this.line(`${r} = ${first};`);
    const stop = op === '&&' ? 'false' : 'true';
    const rest = op === '&&' ? 'rt.andRest' : 'rt.orRest';
    for (let i = 1; i < terms.length; i++) {
      this.line(
        `if (${r} !== ${stop} && (${r} === ${!(op === '&&') ? 'false' : 'true'} || rt.boolEquiv(${r}) !== ${stop})) {`,
      );
      const b = this.emit(terms[i]!);
      this.line(
        `${r} = ${r} === ${op === '&&' ? 'true' : 'false'} && typeof ${b} === 'boolean' ? ${b} : ${rest}(${r}, ${b}); } else ${r} = ${stop};`,
      );
    }
    return r;
  }
}

/** Generate the function for e; `closure` compiles the parts left to closures. */
export function generate(e: Expr, closure: (e: Expr) => CompiledFn): CompiledFn {
  const g = new Gen(closure);
  const result = g.emit(e);
  const decl = g.temps ? `let ${Array.from({ length: g.temps }, (_, i) => `v${i}`).join(', ')};` : '';
  const src = `return function classadExpr(c) {\n${decl}\n${g.body.join('\n')}\nreturn ${result};\n};`;
  const make = new Function('rt', 'K', 'S', 'F', src) as (
    rt: unknown,
    K: unknown[],
    S: LookupSite[],
    F: CompiledFn[],
  ) => CompiledFn;
  return make(rt, g.K, g.S, g.F);
}
