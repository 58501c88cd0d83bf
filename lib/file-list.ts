// File lists as transfer_input_files and transfer_output_files give them: names separated by commas, where a
// `$$([expr])` reference (filled in when the job meets its slot) may hold commas of its own, in a function's
// arguments or a string, and is one item, or part of one. HTCondor fills such references in before it splits
// the list, so only the commas outside them separate names; a file whose own name holds a comma cannot be
// listed (there is no quoting in these lists, in HTCondor either).

/**
 * The index of the `)` closing the `$$(` whose `(` is at `open`, or -1: a `[expr]` body may hold any bracket
 * or string (a `)` in it closes nothing), an `Attr` or `Attr:default` body balanced parentheses.
 */
export function matchRefEnd(s: string, open: number): number {
  if (s.charCodeAt(open + 1) === 91 /* [ */) {
    let depth = 0;
    let quote = 0;
    for (let i = open + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quote) {
        if (c === 92 /* \ */) i++;
        else if (c === quote) quote = 0;
      } else if (c === 34 || c === 39) quote = c;
      else if (c === 91) depth++;
      else if (c === 93 && --depth === 0) return s.charCodeAt(i + 1) === 41 ? i + 1 : -1;
    }
    return -1;
  }
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return i;
  }
  return -1;
}

/**
 * The items of a list, trimmed, empty ones dropped: split at the `separators` outside `$$()` references (an
 * unterminated reference runs to the end of the text).
 */
export function splitFileList(text: string, separators: string): string[] {
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('$$(', i)) {
      const end = matchRefEnd(text, i + 2);
      i = end < 0 ? text.length : end;
    } else if (separators.includes(text[i]!)) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((s) => s.trim()).filter(Boolean);
}
