// A value another user wrote, made safe to show as text: its control characters (C0 and C1, DEL, and the
// bidirectional overrides) written as ClassAd escapes. In a terminal they would be commands (an escape sequence
// that sets its title, rewrites the screen or answers back) or would forge what is shown (a carriage return over
// a line, a newline that prints a row of its own, text shown reversed); in job mail a newline would start a line
// of the user's own, which a mail program may read as a command (`~!`).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');
const NAMED: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/**
 * `s` with its control characters shown as ClassAd escapes (`\n`, `\033`, `\u202e`), as `-long` quotes them:
 * what tables and `-af`/`-format` print of a value is text, never a terminal's command. The exact value is in
 * `-long`, `-json` and `-xml`.
 */
export function visible(s: string): string {
  if (!CONTROL.test(s)) return s;
  return s.replace(CONTROL_ALL, (ch) => {
    const c = ch.charCodeAt(0);
    return NAMED[ch] ?? (c < 0x100 ? `\\${c.toString(8).padStart(3, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`);
  });
}
