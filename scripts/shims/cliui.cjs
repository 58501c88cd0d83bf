// What the bundles give yargs for cliui: cliui's own layout, with wrap-ansi and strip-ansi replaced by fast
// paths for printable ASCII (ascii-wrap.cjs) and string-width by its shim. wrap-ansi's pass over each
// character was most of the time `dq --help` spent laying out its text, and ansi-styles, which builds its
// colour tables as it loads, is then not loaded at all.
// cliui's package exports only its ES module entry, which imports the real three: scripts/bundle.mjs
// resolves the layout module below to its file.
const { cliui } = require('cliui/build/lib/index.js');
const stringWidth = require('string-width');
const { stripAnsi, wrap } = require('./ascii-wrap.cjs');

module.exports = function ui(opts) {
  return cliui(opts, { stringWidth, stripAnsi, wrap });
};
