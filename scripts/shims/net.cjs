// What the bundles give grpc-js for node:net: the same module, with isIPv6 (and isIP) answering at once for
// a text without a colon, which no IPv6 address lacks. grpc-js asks it of every address it dials, and
// node's first isIPv6 compiles its large regular expression: 4-7 ms of CPU in every command and daemon.
const net = require('node:net');
const shim = Object.create(net);
shim.isIPv6 = (s) => {
  const t = `${s}`;
  return t.includes(':') && net.isIPv6(t);
};
shim.isIP = (s) => (net.isIPv4(s) ? 4 : shim.isIPv6(s) ? 6 : 0);
module.exports = shim;
