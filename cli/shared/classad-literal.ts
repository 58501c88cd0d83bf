// ClassAd literal text for a JS value, for ads the CLIs build themselves.
import { literal, unparse } from '../../grammar/classad/index.js';

export const lit = (v: string | number | boolean | null): string => unparse(literal(v));
