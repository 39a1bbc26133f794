'use strict';
// Black-hole listener for node-runner.js (the `blackhole` step).
//
// Listens on HOST (argv[2], default 127.0.0.1), port 0, backlog 1, prints the port on
// stdout, then blocks its own event loop so that nothing is ever accepted. The parent fills
// the kernel accept queue with a few connections; after that further SYNs to the port are
// dropped, so a connect() to it hangs without a RST: a loopback-only "black hole".
//
// Bounded: it blocks for at most argv[3] ms (default 60000), and exits as soon as its parent
// is gone (checked every 100 ms), so it never outlives the runner for long.
const net = require('net');

const host = process.argv[2] || '127.0.0.1';
const holdMs = Number(process.argv[3] || 60000);
const parent = process.ppid;

const server = net.createServer();
server.on('error', (err) => {
  process.stderr.write(`blackhole-child: ${err.code || err.message}\n`);
  process.exit(3);
});
server.listen({ port: 0, host, backlog: 1 }, () => {
  process.stdout.write(`${server.address().port}\n`, () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const end = Date.now() + holdMs;
    while (Date.now() < end && process.ppid === parent) {
      Atomics.wait(cell, 0, 0, 100);
    }
    process.exit(0);
  });
});
