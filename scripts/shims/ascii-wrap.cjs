// wrap-ansi and strip-ansi for the bundles' cliui (see cliui.cjs): printable ASCII (all of our help text)
// takes a fast path that gives what the real modules give, which are loaded on first use for anything else.
// wrap-ansi walks each wrapped line character by character looking for escapes; without any, its last pass
// adds nothing, and the words are wrapped as it wraps them, measured by their length.
/** Printable ASCII and line ends: the text the fast paths below take, measured by its length. */
const PLAIN = /^[\x20-\x7e\n]*$/;

let real;
const load = () => {
  real ??= { stripAnsi: require('strip-ansi').default, wrap: require('wrap-ansi').default };
  return real;
};

// strip-ansi returns a text without an escape introducer as it is
const stripAnsi = (text) =>
  typeof text === 'string' && !text.includes('\u001B') && !text.includes('\u009B') ? text : load().stripAnsi(text);

/** wrap-ansi's wrapWord for text of one column a character. */
function wrapWord(rows, word, columns) {
  let visible = rows.at(-1).length;
  for (let index = 0; index < word.length; index++) {
    if (visible + 1 <= columns) rows[rows.length - 1] += word[index];
    else {
      rows.push(word[index]);
      visible = 0;
    }
    visible++;
    if (visible === columns && index < word.length - 1) {
      rows.push('');
      visible = 0;
    }
  }
  if (!visible && rows.at(-1).length > 0 && rows.length > 1) rows[rows.length - 2] += rows.pop();
}

/** wrap-ansi's stringVisibleTrimSpacesRight: trailing spaces go (a word is visible when it is not empty). */
function trimSpacesRight(text) {
  const words = text.split(' ');
  let last = words.length;
  while (last > 0 && words[last - 1].length === 0) last--;
  return last === words.length ? text : words.slice(0, last).join(' ') + words.slice(last).join('');
}

/** wrap-ansi's exec for one line of printable ASCII, step for step. */
function wrapLine(line, columns, options) {
  if (options.trim !== false && line.trim() === '') return '';
  const words = line.split(' ');
  let rows = [''];
  for (let index = 0; index < words.length; index++) {
    const word = words[index];
    if (options.trim !== false) rows[rows.length - 1] = rows.at(-1).trimStart();
    let rowLength = rows.at(-1).length;
    if (index !== 0) {
      if (rowLength >= columns && (options.wordWrap === false || options.trim === false)) {
        rows.push('');
        rowLength = 0;
      }
      if (rowLength > 0 || options.trim === false) {
        rows[rows.length - 1] += ' ';
        rowLength++;
      }
    }
    if (options.hard && word.length > columns) {
      const remainingColumns = columns - rowLength;
      const breaksStartingThisLine = 1 + Math.floor((word.length - remainingColumns - 1) / columns);
      const breaksStartingNextLine = Math.floor((word.length - 1) / columns);
      if (breaksStartingNextLine < breaksStartingThisLine) rows.push('');
      wrapWord(rows, word, columns);
      continue;
    }
    if (rowLength + word.length > columns && rowLength > 0 && word.length > 0) {
      if (options.wordWrap === false && rowLength < columns) {
        wrapWord(rows, word, columns);
        continue;
      }
      rows.push('');
    }
    if (rowLength + word.length > columns && options.wordWrap === false) {
      wrapWord(rows, word, columns);
      continue;
    }
    rows[rows.length - 1] += word;
  }
  if (options.trim !== false) rows = rows.map(trimSpacesRight);
  return rows.join('\n');
}

/** wrap-ansi's wrapAnsi. */
function wrap(text, columns, options = {}) {
  const s = String(text);
  if (!PLAIN.test(s)) return load().wrap(text, columns, options);
  return s
    .split('\n')
    .map((line) => wrapLine(line, columns, options))
    .join('\n');
}

module.exports = { wrap, stripAnsi };
