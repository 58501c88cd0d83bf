// What the bundles give grpc-js for node:zlib: the module, loaded when grpc-js first compresses or
// decompresses a message (never, unless a peer asks for it) instead of at every start (a few ms of CPU).
let zlib;
module.exports = new Proxy({}, { get: (_, name) => (zlib ??= require('node:zlib'))[name] });
