// What the bundles give grpc-js for node:dns: the module, loaded when grpc-js first resolves a name, not
// when it makes a channel. Its resolver makes a node:dns Resolver (and so loads node:dns and its promises)
// for every channel, even to an address such as 127.0.0.1:9618 that it never looks up: about 1 ms of CPU at
// every command's start. A Resolver here becomes node's own at its first use, with the same arguments.
let dns;
const real = () => (dns ??= require('node:dns'));

function Resolver(...args) {
  let resolver;
  const of = () => (resolver ??= new (real().promises.Resolver)(...args));
  return new Proxy(
    {},
    {
      get: (_, name) => {
        const r = of();
        const v = r[name];
        return typeof v === 'function' ? v.bind(r) : v;
      },
    },
  );
}

const promises = new Proxy({}, { get: (_, name) => (name === 'Resolver' ? Resolver : real().promises[name]) });
module.exports = new Proxy({}, { get: (_, name) => (name === 'promises' ? promises : real()[name]) });
