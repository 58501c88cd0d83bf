// What the bundles use for yargs' string-width: printable ASCII (all of our help text) is measured by its
// length; anything else goes to the real string-width, loaded on first use. The real module makes an
// Intl.Segmenter when it loads, which alone costs a command's start tens of milliseconds.
let real;
module.exports = function stringWidth(text, options) {
  if (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text)) return text.length;
  real ??= require('string-width').default;
  return real(text, options);
};
