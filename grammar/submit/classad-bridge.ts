// What the submit language needs from the ClassAd language (grammar/classad): check an expression
// (errors at the submit file's line:column), list the attributes it names, evaluate a constant expression
// (`queue N*2`, $INT(), `if` conditions) and quote a string the way HTCondor prints it.
import { ClassAd, parseExpr, referencedAttrs, valueToJS } from '../classad/index.js';
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';

export interface Origin {
  file: string;
  line: number;
  column: number;
  sourceLine?: string;
}

// ---------------------------------------------------------------------------------------------
// Strings

/** A JS string as a ClassAd string literal: "…" with \\ \" \n \t \r escaped. */
const NEEDS_ESCAPE = /["\\\x00-\x1f]/;

export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\r':
        out += '\\r';
        break;
      default: {
        const c = ch.charCodeAt(0);
        out += c < 32 ? '\\' + c.toString(8).padStart(3, '0') : ch;
      }
    }
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------
// The operations the submit language uses

/** The attributes an expression names (lower-cased), by scope. Throws SourceError on bad syntax. */
export interface CheckedExpr {
  attrs: { my: Set<string>; target: Set<string>; unscoped: Set<string> };
}

/**
 * Check `text` as a ClassAd expression. `origin` is where it starts in the submit file when the text is
 * exactly what the file says (so columns are right); otherwise errors point at `fallback`.
 */
export function checkExpr(
  text: string,
  origin: Origin | undefined,
  fallback: Location,
  fallbackLine: string | undefined,
  what: string,
): CheckedExpr {
  try {
    return { attrs: referencedAttrs(parseExpr(text, origin)) };
  } catch (err) {
    if (!(err instanceof SourceError) || origin) throw err;
    throw new SourceError('SUBMIT_INVALID', `${what}: ${err.bareMessage} in '${text}'`, fallback, fallbackLine, {
      cause: err,
    });
  }
}

/** Evaluate a constant expression (no ad). Returns JS: number, string, boolean, null (undefined), 'error' marker. */
export function evalConstant(text: string): number | string | boolean | null | { error: true } | unknown[] {
  try {
    const v = valueToJS(new ClassAd().evalExpr(parseExpr(text)));
    if (v === undefined) return null;
    return v as number | string | boolean | null;
  } catch {
    return { error: true };
  }
}
