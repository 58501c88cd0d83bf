// The statements of a submit description as the grammar (submit.peggy) returns them.
// Offsets are 0-based into the file's text; SourceText turns them into line:column.

export interface Piece {
  text: string;
  offset: number;
}

export interface AssignStmt {
  kind: 'assign';
  key: string;
  keyOffset: number;
  /** the value's pieces: one per physical line (continuations, or `@=tag` bodies) */
  segments: Piece[];
  /** `@=tag` values: whether the closing `@tag` was found */
  closed?: boolean;
  tag?: string;
  offset: number;
}

export interface QueueStmt {
  kind: 'queue';
  /** the text after `queue` (up to the `(` of a multi-line list) */
  args: string;
  argsOffset: number;
  /** a multi-line item list: its rows, or null when the whole statement is on one line */
  rows: Piece[] | null;
  open?: Piece;
  close?: Piece;
  offset: number;
}

export interface IncludeStmt {
  kind: 'include';
  options: string;
  path: string;
  pathOffset: number;
  offset: number;
}

export interface CondStmt {
  kind: 'if' | 'elif';
  cond: string;
  condOffset: number;
  offset: number;
}

export interface ElseStmt {
  kind: 'else' | 'endif';
  tail: string;
  tailOffset: number;
  offset: number;
}

export interface DirectiveStmt {
  kind: 'directive';
  level: 'error' | 'warning';
  message: string;
  offset: number;
}

export interface BadStmt {
  kind: 'bad';
  reason: 'syntax' | 'unclosed-list';
  text?: string;
  listOffset?: number;
  offset: number;
}

export type Statement = AssignStmt | QueueStmt | IncludeStmt | CondStmt | ElseStmt | DirectiveStmt | BadStmt;

export interface QueueArgsAst {
  head: string;
  foreach: null | {
    mode: 'in' | 'from' | 'matching';
    what?: 'files' | 'dirs' | null;
    slice: { start: number | null; end: number | null; step: number | null } | null;
    items: string;
    itemsOffset: number;
  };
}
