// The ClassAd language: the public API (see README.md). Everything outside grammar/classad imports from here.
export type { Expr, BinaryOp, UnaryOp, LiteralValue } from './ast.js';
export { exprDepth, children as exprChildren, isPlainLiteral } from './ast.js';
export type { Value, ValueType } from './value.js';
export { UNDEFINED, ERROR, ListValue, isTrue, toNumber, typeOf, isUndefined, isError, isExceptional } from './value.js';
export { parseExpr, parseAssignment, limits, type Origin } from './parse.js';
export { ClassAd, parseClassAd } from './classad.js';
export { unparse, printValue, formatReal, quoteName, quoteString } from './unparse.js';
export { compile } from './compile.js';
export { MAX_EVAL_STEPS, MAX_STRING_LENGTH, MAX_LIST_LENGTH, MAX_EVAL_DEPTH } from './eval.js';
export { literal, valueToJS } from './literal.js';
export { referencedAttrs } from './references.js';
export { symmetricMatch, rankOf } from './match.js';
