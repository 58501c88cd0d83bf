// What the bundles give grpc-js for node:net: node's module, whose isIPv6 and isIP now answer at once for a
// text without a colon (no IPv6 address lacks one) and ask node's own otherwise. Node's first isIPv6 compiles
// a large regular expression (4-7 ms of CPU), and every connection asks it: grpc-js of each address it dials,
// node's TLS of the server name (dsched-schedd), through this same module object, which is why the functions
// are replaced on it rather than on a copy. The answers are node's, for every input.
const net = require('node:net');
const { isIPv4, isIPv6 } = net;
if (!net.isIPv6.dschedFast) {
  const fastIsIPv6 = (s) => {
    const t = `${s}`;
    return t.includes(':') && isIPv6(t);
  };
  fastIsIPv6.dschedFast = true;
  net.isIPv6 = fastIsIPv6;
  net.isIP = (s) => (isIPv4(s) ? 4 : fastIsIPv6(s) ? 6 : 0);
}
module.exports = net;
