// What the bundles give yargs for node:assert: the two checks it makes on its own state. node:assert loads
// its error formatting (colours, inspect, diffs) when first imported, a few ms of every command's start.
function fail(message, fallback) {
  if (message instanceof Error) throw message;
  const e = new Error(message ?? fallback);
  e.code = 'ERR_ASSERTION';
  throw e;
}
exports.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) fail(message, `expected ${String(actual)} to be ${String(expected)}`);
};
exports.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) fail(message, `expected a value other than ${String(expected)}`);
};
