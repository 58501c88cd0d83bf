// What the bundles give protobufjs for long.js: nothing. protobufjs then reads and writes 64-bit integers as
// plain numbers (its LongBits), which is what every dsched program asks for anyway (`longs: Number`), instead
// of building a Long object per field and converting it. long.js compiles a WebAssembly module as it loads and
// its 50 KB of source stayed in every daemon's heap.
module.exports = null;
