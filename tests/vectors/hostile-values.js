// Generates hostile-values.json: what Node throws (code, class, message) when huge, long
// or deeply nested values reach net's argument checks. Run: node hostile-values.js > hostile-values.json
// Each case's `value` is a small recipe (see `build`) that tests/tests/vectors_hostile.rs
// rebuilds as a sansnet Value. Messages are stored well-formed: a lone surrogate Node would
// print (a cut through a surrogate pair) is stored as U+FFFD, as a Rust string holds it.
'use strict';
const net = require('net');

function build(spec) {
  switch (spec.kind) {
    case 'json': return spec.v;
    case 'undefined': return undefined;
    case 'repeat': return (spec.prefix || '') + spec.unit.repeat(spec.n) + (spec.suffix || '');
    case 'bigint': return BigInt(spec.digits);
    case 'symbol': return Symbol(spec.desc);
    case 'buffer': return Buffer.alloc(spec.n, spec.byte);
    case 'range': return Array.from({ length: spec.n }, (_, i) => i);
    case 'strings': return Array.from({ length: spec.n }, (_, i) => spec.prefix + i);
    case 'keys': {
      const o = {};
      for (let i = 0; i < spec.n; i++) o[spec.prefix + i] = build(spec.value);
      return o;
    }
    case 'list': return spec.items.map(build);
    case 'wrap': return { [spec.key]: build(spec.v) };
    case 'nest': {
      let v = build(spec.leaf);
      for (let i = 0; i < spec.depth; i++) v = spec.shape === 'array' ? [v] : { [spec.key]: v };
      return v;
    }
    default: throw new Error(`unknown kind ${spec.kind}`);
  }
}

const calls = {
  connect: (v) => net.connect(v),
  connect_port: (v) => net.connect({ port: v }),
  connect_family: (v) => net.connect({ port: 80, family: v }),
  connect_host: (v) => net.connect({ port: 80, host: v }),
  connect_local_address: (v) => net.connect({ port: 80, localAddress: v }),
  listen: (v) => net.createServer().listen(v),
  listen_backlog: (v) => net.createServer().listen(0, '127.0.0.1', v),
  set_timeout: (v) => new net.Socket().setTimeout(v),
  set_keep_alive: (v) => new net.Socket().setKeepAlive(true, v),
  write_encoding: (v) => new net.Socket().write('x', v),
  is_ip: (v) => net.isIP(v),
};

const S = (n, unit = 'x', extra = {}) => ({ kind: 'repeat', unit, n, ...extra });
const keys100k = { kind: 'keys', n: 100000, prefix: 'k', value: { kind: 'json', v: 1 } };
const deepArr = { kind: 'nest', shape: 'array', depth: 1000000, leaf: { kind: 'json', v: [] } };
const deepObj = { kind: 'nest', shape: 'object', key: 'a', depth: 1000000, leaf: { kind: 'json', v: {} } };
const cases = [
  ['connect_port', S(1000)],
  ['connect_port', S(1000, '9')],
  ['connect_port', { kind: 'json', v: 'a\nb' }],
  ['connect_port', { kind: 'json', v: "it's \"x\" `y` \u0001 \u0085" }],
  ['connect_port', { kind: 'json', v: "it's \"x\" `y` \u0001 \u0085 aaaaaaaaaaaaaaaaaaaaaaaaaaaa" }],
  ['connect_port', S(12, '\u{1F600}', { prefix: 'a' })],
  ['connect_port', S(12, '\u{1F600}', { prefix: "'" })],
  ['connect_port', { kind: 'symbol', desc: 'x'.repeat(100) }],
  ['connect_port', { kind: 'json', v: 1e21 }],
  ['connect_port', { kind: 'bigint', digits: '1' + '0'.repeat(40) }],
  ['connect_port', deepArr],
  ['connect_port', deepObj],
  ['connect_family', S(1000)],
  ['connect_family', S(20000)],
  ['connect_family', S(10001, '\u{1F600}')],
  ['connect_family', { kind: 'list', items: [S(20000, 'y', { prefix: 'a\n' })] }],
  ['connect_family', S(100, 'x', { suffix: '\n' + 'y'.repeat(100) })],
  ['connect_family', keys100k],
  ['connect_family', { kind: 'wrap', key: 'a', v: keys100k }],
  ['connect_family', { kind: 'range', n: 1000 }],
  ['connect_family', { kind: 'range', n: 101 }],
  ['connect_family', { kind: 'strings', n: 150, prefix: 's' }],
  ['connect_family', { kind: 'list', items: [{ kind: 'range', n: 150 }] }],
  ['connect_family', { kind: 'buffer', n: 1000, byte: 97 }],
  ['connect_family', deepArr],
  ['connect_family', deepObj],
  ['connect_host', deepArr],
  ['connect_host', deepObj],
  ['connect_host', keys100k],
  ['connect_local_address', deepArr],
  ['connect_local_address', deepObj],
  ['connect_local_address', { kind: 'range', n: 30 }],
  ['connect_local_address', { kind: 'json', v: [['x']] }],
  ['connect_local_address', S(200)],
  ['connect_local_address', { kind: 'json', v: '0177.0.0.1' }],
  ['connect_local_address', { kind: 'json', v: '01.02.03.04' }],
  ['connect_local_address', { kind: 'json', v: '0x7f.1' }],
  ['connect_local_address', { kind: 'json', v: '127.1' }],
  ['connect_local_address', { kind: 'json', v: '[::1]' }],
  ['connect_local_address', { kind: 'json', v: '127.0.0.1 ' }],
  ['is_ip', { kind: 'json', v: '0177.0.0.1' }],
  ['is_ip', { kind: 'json', v: '::ffff:1.2.3.4' }],
  ['is_ip', { kind: 'json', v: 'fe80::1%eth0' }],
  ['is_ip', { kind: 'json', v: 'FE80::1' }],
  ['is_ip', { kind: 'json', v: '::1.2.3.4' }],
  ['is_ip', { kind: 'json', v: '1.2.3.04' }],
  ['connect', deepArr],
  ['connect', deepObj],
  ['connect', keys100k],
  ['listen', keys100k],
  ['listen', { kind: 'range', n: 1000 }],
  ['listen', deepArr],
  ['listen', deepObj],
  ['listen', { kind: 'wrap', key: 'port', v: deepArr }],
  ['listen_backlog', deepArr],
  ['set_timeout', S(1000)],
  ['set_timeout', { kind: 'bigint', digits: '123456789012345678901234567890' }],
  ['set_timeout', deepArr],
  ['set_timeout', { kind: 'json', v: -1e21 }],
  ['set_keep_alive', deepArr],
  ['write_encoding', deepArr],
  ['write_encoding', deepObj],
  ['write_encoding', keys100k],
  ['write_encoding', S(1000)],
  ['is_ip', deepArr],
  ['is_ip', deepObj],
];

const LONG = 4000;
const out = [];
for (const [call, spec] of cases) {
  const value = build(spec);
  let outcome;
  try {
    const r = calls[call](value);
    if (r instanceof net.Server) r.close();
    else if (r instanceof net.Socket) { r.on('error', () => {}); r.destroy(); }
    outcome = { returns: typeof r === 'number' ? r : 'ok' };
  } catch (e) {
    const message = e.message.toWellFormed();
    const thrown = { code: e.code ?? null, name: e.name };
    if (message.length > LONG) {
      // A long message is stored by its length (UTF-16 units), head and tail.
      Object.assign(thrown, {
        message_length: message.length,
        message_head: message.slice(0, 2000),
        message_tail: message.slice(-500),
      });
    } else {
      thrown.message = message;
    }
    outcome = { throws: thrown };
  }
  out.push({ call, value: spec, ...outcome });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
process.exit(0);
