// What the bundles give yargs for cliui: the same function, whose module (with wrap-ansi, strip-ansi and
// ansi-styles, which builds its colour tables as it loads) is evaluated when yargs first lays out a usage or
// help text rather than at every command's start: a query or a submit never prints one.
let real;
module.exports = function ui(opts) {
  real ??= require('cliui').default;
  return real(opts);
};
