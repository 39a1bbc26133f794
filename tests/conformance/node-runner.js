#!/usr/bin/env node
'use strict';
// The reference runner for conformance scenarios (tests/conformance/FORMAT.md).
//
//   node tests/conformance/node-runner.js SCENARIO.json
//
// Runs the scenario on Node's own `net` module and prints the canonical trace
// (`{"name":…,"traces":{ACTOR:[LINE,…]}}`, JSON indented by one space, one trailing
// newline) on stdout. Exit status: 0 the scenario ran to its end, 1 a wait, the settle or
// the runner's own guard timed out, 2 the file is not a valid scenario (message on stderr,
// nothing on stdout).
//
// Readings of FORMAT.md that the format leaves open are marked "Reading:" below; the Rust
// runner must read them the same way.
//
// Network use: loopback and unix sockets only (whatever the scenario asks for); every run is
// bounded by the scenario's own timeouts plus a guard; the private temporary folder and the
// black-hole child processes are removed at exit.

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const DEFAULT_WAIT_TIMEOUT = 5000;
const DEFAULT_SETTLE = 5000;
const SETTLE_GRACE = 20;
const BLACKHOLE_SETUP_TIMEOUT = 5000;
const GUARD_MARGIN = 5000;

// ---------------------------------------------------------------------------------------
// Loading and validating a scenario (exit 2 on any problem).

class ScenarioError extends Error {}

const SOCKET_OPS = new Set([
  'write', 'end', 'destroy', 'destroySoon', 'resetAndDestroy', 'pause', 'resume',
  'setTimeout', 'setNoDelay', 'setKeepAlive', 'echo',
]);
const SERVER_OPS = new Set(['listen', 'close', 'getConnections']);
const BLOCKLIST_OPS = new Set(['addAddress', 'addRange', 'addSubnet', 'check']);
const SOCKET_OR_SERVER_OPS = new Set(['set', 'ref', 'unref']);
const CREATING_OPS = {
  createServer: 'server', socket: 'socket', blockList: 'blocklist',
  socketAddress: 'socketAddress', blackhole: 'blackhole',
};
const PURE_OPS = new Set(['isIP', 'isIPv4', 'isIPv6', 'parseSocketAddress']);

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// The kind of actor NAME, given the actors created so far: accepted sockets are
// `SERVER#N` with N ≥ 1.
function kindOf(kinds, name) {
  if (kinds.has(name)) return kinds.get(name);
  const m = /^(.*)#([1-9][0-9]*)$/.exec(name);
  if (m && kinds.get(m[1]) === 'server') return 'socket';
  return undefined;
}

function validate(sc) {
  const fail = (msg) => { throw new ScenarioError(msg); };
  if (!isPlainObject(sc)) fail('a scenario is a JSON object');
  if (typeof sc.name !== 'string') fail('"name" must be a string');
  if (sc.settle !== undefined && !(typeof sc.settle === 'number' && sc.settle >= 0)) {
    fail('"settle" must be a number >= 0');
  }
  if (!Array.isArray(sc.steps)) fail('"steps" must be an array');
  const kinds = new Map();
  sc.steps.forEach((step, i) => {
    const at = (msg) => fail(`step ${i + 1}: ${msg}`);
    if (!isPlainObject(step)) at('a step is an object');
    const keys = ['do', 'wait', 'sleep', 'snapshot'].filter((k) => step[k] !== undefined);
    if (keys.length !== 1) at('a step has exactly one of "do", "wait", "sleep", "snapshot"');
    if (step.wait !== undefined) {
      const colon = typeof step.wait === 'string' ? step.wait.lastIndexOf(':') : -1;
      if (colon <= 0 || colon === step.wait.length - 1) at('"wait" is "ACTOR:EVENT"');
      const actor = step.wait.slice(0, colon);
      const event = step.wait.slice(colon + 1);
      if (kindOf(kinds, actor) === undefined) at(`unknown actor "${actor}"`);
      if (step.count !== undefined && !(Number.isInteger(step.count) && step.count >= 1)) {
        at('"count" must be an integer >= 1');
      }
      if (step.bytes !== undefined) {
        if (event !== 'data') at('"bytes" only goes with a wait for data');
        if (!(Number.isInteger(step.bytes) && step.bytes >= 0)) at('"bytes" must be an integer >= 0');
      }
      if (step.timeout !== undefined && !(typeof step.timeout === 'number' && step.timeout >= 0)) {
        at('"timeout" must be a number >= 0');
      }
      return;
    }
    if (step.sleep !== undefined) {
      if (!(typeof step.sleep === 'number' && step.sleep >= 0)) at('"sleep" must be a number >= 0');
      return;
    }
    if (step.snapshot !== undefined) {
      if (typeof step.snapshot !== 'string') at('"snapshot" names an actor');
      if (kindOf(kinds, step.snapshot) === undefined) at(`unknown actor "${step.snapshot}"`);
      if (!Array.isArray(step.props) || !step.props.every((p) => typeof p === 'string')) {
        at('"props" must be an array of strings');
      }
      return;
    }
    const op = step.do;
    const actor = step.actor;
    if (typeof op !== 'string') at('"do" must be a string');
    if (typeof actor !== 'string' || actor === '') at('"actor" must be a non-empty string');
    if (step.options !== undefined && !isPlainObject(step.options)) at('"options" must be an object');
    const kind = kindOf(kinds, actor);
    if (op === 'connect') {
      if (kind !== undefined && kind !== 'socket') at(`"${actor}" is not a socket`);
      kinds.set(actor, 'socket');
    } else if (Object.prototype.hasOwnProperty.call(CREATING_OPS, op)) {
      if (kind !== undefined) at(`actor "${actor}" already exists`);
      kinds.set(actor, CREATING_OPS[op]);
    } else if (PURE_OPS.has(op)) {
      if (kind === undefined) kinds.set(actor, 'pure');
    } else {
      const need = SOCKET_OPS.has(op) ? ['socket'] :
        SERVER_OPS.has(op) ? ['server'] :
          BLOCKLIST_OPS.has(op) ? ['blocklist'] :
            SOCKET_OR_SERVER_OPS.has(op) ? ['socket', 'server'] : null;
      if (need === null) at(`unknown operation "${op}"`);
      if (kind === undefined) at(`unknown actor "${actor}"`);
      if (!need.includes(kind)) at(`"${op}" does not apply to the ${kind} "${actor}"`);
    }
    if (op === 'set' && typeof step.prop !== 'string') at('"prop" must be a string');
    if (op === 'write' || op === 'end') {
      if (step.data !== undefined && step.bytes !== undefined) at('"data" and "bytes" exclude each other');
      if (step.bytes !== undefined && !(Number.isInteger(step.bytes) && step.bytes >= 0)) {
        at('"bytes" must be an integer >= 0');
      }
      if (step.callback !== undefined && typeof step.callback !== 'boolean') at('"callback" must be a boolean');
      if (step.record !== undefined && step.record !== 'return') at('"record" can only be "return"');
    }
    if (op === 'createServer' && step.echo !== undefined && typeof step.echo !== 'boolean') {
      at('"echo" must be a boolean');
    }
    if (op === 'destroy' && step.error !== undefined && typeof step.error !== 'string') {
      at('"error" must be a string (an error code)');
    }
  });
  return sc;
}

function load(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`cannot read ${file}: ${e.message}`);
  }
  let sc;
  try {
    sc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`not JSON: ${e.message}`);
  }
  return validate(sc);
}

// ---------------------------------------------------------------------------------------
// Actors, variables and trace lines.

const actors = new Map(); // name -> actor, in creation order
const vars = new Map(); // "$srv.port" -> value, in first-binding order

function newActor(name, kind) {
  const a = {
    name, kind, obj: null, lines: [], counts: new Map(), bytesIn: 0,
    live: false, // a socket that connected (or was accepted) and has not emitted 'close'
    connections: 0, echo: false,
  };
  actors.set(name, a);
  return a;
}

function actorFor(name, kind) {
  return actors.get(name) || newActor(name, kind);
}

function bind(name, value) {
  vars.set(name, value);
}

// Reading: a port in a port position (connectionAttempt*, drop, localPort, remotePort,
// address().port, autoSelectFamilyAttemptedAddresses) is written as the first-bound variable
// `$X.port` holding that value, else `*` (whatever its origin); a non-number stays as is.
function portText(p) {
  if (typeof p !== 'number') return p;
  for (const [k, v] of vars) if (k.endsWith('.port') && v === p) return k;
  return '*';
}

// Any string equal to a bound path is written as its variable `$X.path`.
function pathText(s) {
  if (typeof s !== 'string') return s;
  for (const [k, v] of vars) if (k.endsWith('.path') && v === s) return k;
  return s;
}

const str = (v) => String(pathText(v));

// CODE: an AggregateError prints AggregateError[CODE,…]; else the error's code, else its name.
function codeOf(e) {
  if (e !== null && typeof e === 'object') {
    if (e.name === 'AggregateError' && Array.isArray(e.errors)) {
      return `AggregateError[${e.errors.map(codeOf).join(',')}]`;
    }
    if (e.code !== undefined) return String(e.code);
    if (e.name !== undefined) return String(e.name);
  }
  return String(e);
}

// CODE-or-null, for callbacks and 'lookup'.
const errOrNull = (e) => (e === null || e === undefined ? 'null' : codeOf(e));

let onObserved = () => {};

function record(a, event, line) {
  a.lines.push(line);
  a.counts.set(event, (a.counts.get(event) || 0) + 1);
  onObserved();
}

function fnv1a(h, buf) {
  for (let i = 0; i < buf.length; i++) {
    h ^= buf[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// Consecutive 'data' events of an actor (no other line of that actor between them) make one
// line: the last entry of `lines` is then a data accumulator, rendered at the end.
function recordData(a, chunk) {
  const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
  let d = a.lines[a.lines.length - 1];
  if (!(d !== null && typeof d === 'object' && d.data)) {
    d = { data: true, len: 0, hash: 0x811c9dc5, printable: true, text: '' };
    a.lines.push(d);
  }
  for (let i = 0; i < buf.length && d.printable; i++) {
    if (buf[i] < 0x20 || buf[i] > 0x7e) d.printable = false;
  }
  if (d.len + buf.length <= 64) d.text += buf.toString('latin1');
  d.len += buf.length;
  d.hash = fnv1a(d.hash, buf);
  a.bytesIn += buf.length;
  a.counts.set('data', (a.counts.get('data') || 0) + 1);
  onObserved();
}

function renderLine(l) {
  if (typeof l === 'string') return l;
  if (l.len <= 64 && l.printable) return `data ${l.len} ${JSON.stringify(l.text)}`;
  return `data ${l.len} fnv1a:${l.hash.toString(16).padStart(8, '0')}`;
}

// JSON form of a value inside a snapshot or a drop line: object keys sorted at every level,
// strings equal to a bound path written as the variable.
function normalize(v) {
  if (typeof v === 'string') return pathText(v);
  if (typeof v === 'bigint') return String(v);
  if (v === null || typeof v !== 'object') return v;
  if (typeof v.toJSON === 'function') return normalize(v.toJSON());
  if (Array.isArray(v)) return v.map(normalize);
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = normalize(v[k]);
  return out;
}

// ---------------------------------------------------------------------------------------
// Options: variables, $tmp, and the two JSON encodings (blockList rules, lookup answers).

let tmpDir = null;
let tmpCount = 0;

function freshTmpPath() {
  if (tmpDir === null) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sansnet-node-runner-'));
  tmpCount += 1;
  return path.join(tmpDir, `s${tmpCount}.sock`);
}

// Reading: every string starting with `$`, at any depth of `options`, is replaced: `$tmp` by
// a fresh path, a bound variable by its value; an unbound `$…` string is left as it is.
function substitute(v) {
  if (typeof v === 'string' && v.startsWith('$')) {
    if (v === '$tmp') return freshTmpPath();
    return vars.has(v) ? vars.get(v) : v;
  }
  if (Array.isArray(v)) return v.map(substitute);
  if (isPlainObject(v)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = substitute(v[k]);
    return o;
  }
  return v;
}

function makeBlockList(rules) {
  const bl = new net.BlockList();
  for (const r of rules) {
    const type = r.type === undefined ? 'ipv4' : r.type;
    if (r.address !== undefined) bl.addAddress(r.address, type);
    else if (r.range !== undefined) bl.addRange(r.range[0], r.range[1], type);
    else if (r.subnet !== undefined) bl.addSubnet(r.subnet, r.prefix, type);
  }
  return bl;
}

// A resolver returning the given answers asynchronously (process.nextTick) for any host:
// all of them when asked for all, else the first (ENOTFOUND when there is none).
function makeLookup(answers) {
  const list = answers.map((x) => (Array.isArray(x) ? { address: x[0], family: x[1] } : x));
  return function lookup(hostname, options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    if (options && options.all) {
      process.nextTick(cb, null, list.map((x) => ({ ...x })));
    } else if (list.length === 0) {
      const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      e.code = 'ENOTFOUND';
      e.syscall = 'getaddrinfo';
      e.hostname = hostname;
      process.nextTick(cb, e);
    } else {
      process.nextTick(cb, null, list[0].address, list[0].family);
    }
  };
}

// The options of a step, ready for Node. Throws what building a BlockList throws.
function options(step) {
  const o = substitute(step.options === undefined ? {} : step.options);
  if (Array.isArray(o.blockList)) o.blockList = makeBlockList(o.blockList);
  if (Array.isArray(o.lookup)) o.lookup = makeLookup(o.lookup);
  return o;
}

// ---------------------------------------------------------------------------------------
// Tracing sockets and servers.

function traceSocket(a) {
  const s = a.obj;
  s.on('lookup', (err, address, family, host) => record(a, 'lookup',
    `lookup ${errOrNull(err)} ${str(address)} ${str(family)} ${str(host)}`));
  s.on('connectionAttempt', (ip, port, family) => record(a, 'connectionAttempt',
    `connectionAttempt ${str(ip)} ${portText(port)} ${str(family)}`));
  s.on('connectionAttemptFailed', (ip, port, family, err) => record(a, 'connectionAttemptFailed',
    `connectionAttemptFailed ${str(ip)} ${portText(port)} ${str(family)} ${codeOf(err)}`));
  s.on('connectionAttemptTimeout', (ip, port, family) => record(a, 'connectionAttemptTimeout',
    `connectionAttemptTimeout ${str(ip)} ${portText(port)} ${str(family)}`));
  for (const ev of ['connect', 'ready', 'end', 'finish', 'drain', 'timeout']) {
    s.on(ev, () => record(a, ev, ev));
  }
  s.on('data', (chunk) => recordData(a, chunk));
  s.on('error', (err) => record(a, 'error', `error ${codeOf(err)}`));
  s.on('close', (hadError) => {
    a.live = false;
    record(a, 'close', `close ${hadError === true}`);
  });
}

// Like socket.pipe(socket), without pipe's flow control: every chunk received is written
// back, and 'end' is answered with end().
function echo(s) {
  s.on('data', (chunk) => s.write(chunk));
  s.on('end', () => s.end());
}

function traceServer(a) {
  const srv = a.obj;
  srv.on('listening', () => {
    const addr = srv.address();
    if (addr !== null && typeof addr === 'object') {
      bind(`$${a.name}.port`, addr.port);
      bind(`$${a.name}.address`, addr.address);
    }
    record(a, 'listening', 'listening');
  });
  srv.on('connection', (socket) => {
    a.connections += 1;
    const child = newActor(`${a.name}#${a.connections}`, 'socket');
    child.obj = socket;
    child.live = true;
    traceSocket(child);
    if (a.echo) echo(socket);
    record(a, 'connection', `connection ${child.name}`);
  });
  srv.on('drop', (data) => {
    let text = 'undefined';
    if (data !== undefined) {
      const d = { ...data };
      for (const k of ['localPort', 'remotePort']) if (k in d) d[k] = portText(d[k]);
      text = JSON.stringify(normalize(d));
    }
    record(a, 'drop', `drop ${text}`);
  });
  srv.on('error', (err) => record(a, 'error', `error ${codeOf(err)}`));
  srv.on('close', () => record(a, 'close', 'close'));
}

// ---------------------------------------------------------------------------------------
// Snapshots.

// Reading: for sockets and servers `address` calls address(); elsewhere (SocketAddress) it
// is the property. Port substitution applies to sockets and servers only.
function snapshotValue(a, prop) {
  const o = a.obj;
  const netObject = a.kind === 'socket' || a.kind === 'server';
  let v;
  try {
    if (prop === 'address' && netObject) {
      v = o.address();
      if (v !== null && typeof v === 'object' && 'port' in v) v = { ...v, port: portText(v.port) };
    } else {
      v = o[prop];
      if (netObject && (prop === 'localPort' || prop === 'remotePort')) v = portText(v);
      if (netObject && prop === 'autoSelectFamilyAttemptedAddresses' && Array.isArray(v)) {
        v = v.map((x) => {
          const i = String(x).lastIndexOf(':');
          return i < 0 ? x : `${x.slice(0, i)}:${portText(Number(x.slice(i + 1)))}`;
        });
      }
    }
  } catch (e) {
    return `<throws ${codeOf(e)}>`;
  }
  if (v === undefined) return '<undefined>';
  if (typeof v === 'function') return '<function>';
  return normalize(v);
}

function snapshot(step) {
  const a = actors.get(step.snapshot);
  // Reading: an actor with no object (its constructor threw, a pure-op actor, a black hole)
  // records nothing.
  if (!a || a.obj === null) return;
  const snap = {};
  for (const p of [...step.props].sort()) snap[p] = snapshotValue(a, p);
  record(a, 'snapshot', `snapshot ${JSON.stringify(snap)}`);
}

// ---------------------------------------------------------------------------------------
// SocketAddress.parse: the Node 23 algorithm (URL host parser + SocketAddress), with the
// explicit port kept (the project's choice, tests/vectors/README.md): the port is read from
// the text after the last ':' (after ']:' for a bracketed IPv6), parseInt(…, 10) || 0,
// instead of url.port, which drops an explicit ':80'. Used on every Node version, so the
// trace does not depend on it.

function parseSocketAddress(input) {
  if (typeof input !== 'string') {
    const e = new TypeError(`The "input" argument must be of type string. Received ${typeof input}`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  try {
    const { hostname: address } = new URL(`http://${input}`);
    if (address.startsWith('[') && address.endsWith(']')) {
      const at = input.indexOf(']:');
      const port = at !== -1 ? Number.parseInt(input.slice(at + 2), 10) || 0 : 0;
      return new net.SocketAddress({ address: address.slice(1, -1), port, family: 'ipv6' });
    }
    const colon = input.lastIndexOf(':');
    const port = colon !== -1 ? Number.parseInt(input.slice(colon + 1), 10) || 0 : 0;
    return new net.SocketAddress({ address, port });
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Operations.

function makeError(code) {
  const e = new Error(code);
  e.code = code;
  return e;
}

function bytes(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

// Call fn; a synchronous throw records `throws CODE` on the actor.
function attempt(a, fn) {
  try {
    fn();
    return true;
  } catch (e) {
    record(a, 'throws', `throws ${codeOf(e)}`);
    return false;
  }
}

// Drop trailing undefined arguments, so an absent step key is an absent argument.
function args(...list) {
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
  return list;
}

function writeOrEnd(a, step) {
  const op = step.do;
  const s = a.obj;
  const chunk = step.bytes !== undefined ? bytes(step.bytes) : step.data;
  const list = [];
  // Reading: `write` always passes its chunk (an absent one as undefined, which Node
  // rejects); `end` passes data only when the step has some.
  if (op === 'write' || chunk !== undefined) list.push(chunk);
  if (step.callback) {
    list.push((err) => record(a, `${op}Callback`, `${op}Callback ${errOrNull(err)}`));
  }
  attempt(a, () => {
    const ret = s[op](...list);
    // Reading: "record":"return" records `write -> BOOL`; end() returns the socket, so it
    // records nothing for end.
    if (op === 'write' && step.record === 'return') record(a, 'write', `write -> ${ret}`);
  });
}

function runOp(step, next) {
  const op = step.do;
  const name = step.actor;
  switch (op) {
    case 'createServer': {
      const a = newActor(name, 'server');
      a.echo = step.echo === true;
      attempt(a, () => {
        a.obj = net.createServer(options(step));
        traceServer(a);
      });
      return;
    }
    case 'connect': {
      const existing = actors.get(name);
      if (existing !== undefined) {
        // Reading: connect on an existing socket actor is socket.connect(options).
        if (existing.obj === null) return;
        attempt(existing, () => {
          existing.obj.connect(options(step));
          existing.live = true;
        });
        return;
      }
      const a = newActor(name, 'socket');
      attempt(a, () => {
        a.obj = net.createConnection(options(step));
        a.live = true;
        traceSocket(a);
      });
      return;
    }
    case 'socket': {
      const a = newActor(name, 'socket');
      attempt(a, () => {
        a.obj = new net.Socket(options(step));
        traceSocket(a);
      });
      return;
    }
    case 'blockList': {
      const a = newActor(name, 'blocklist');
      attempt(a, () => { a.obj = new net.BlockList(); });
      return;
    }
    case 'socketAddress': {
      const a = newActor(name, 'socketAddress');
      attempt(a, () => { a.obj = new net.SocketAddress(options(step)); });
      return;
    }
    case 'blackhole':
      blackhole(step, next);
      return;
    case 'isIP':
    case 'isIPv4':
    case 'isIPv6': {
      const a = actorFor(name, 'pure');
      attempt(a, () => {
        record(a, op, `${op} ${JSON.stringify(step.input)} ${net[op](step.input)}`);
      });
      return;
    }
    case 'parseSocketAddress': {
      const a = actorFor(name, 'pure');
      attempt(a, () => {
        const sa = parseSocketAddress(step.input);
        const text = sa === undefined ? 'undefined' :
          JSON.stringify({ address: sa.address, family: sa.family, port: sa.port });
        record(a, 'parse', `parse ${JSON.stringify(step.input)} ${text}`);
      });
      return;
    }
    default:
      break;
  }
  const a = actors.get(name);
  // Reading: an operation on an actor whose creation threw records nothing.
  if (a === undefined || a.obj === null) return;
  const o = a.obj;
  switch (op) {
    case 'listen':
      attempt(a, () => {
        const opts = options(step);
        o.listen(opts);
        if (typeof opts.path === 'string') bind(`$${name}.path`, opts.path);
      });
      return;
    case 'set':
      attempt(a, () => { o[step.prop] = step.value; });
      return;
    case 'close':
      attempt(a, () => {
        o.close((err) => record(a, 'closeCallback', `closeCallback ${errOrNull(err)}`));
      });
      return;
    case 'getConnections':
      attempt(a, () => {
        o.getConnections((err, n) => record(a, 'connections',
          `connections ${err ? codeOf(err) : n}`));
      });
      return;
    case 'write':
    case 'end':
      writeOrEnd(a, step);
      return;
    case 'destroy':
      attempt(a, () => {
        if (step.error === undefined) o.destroy();
        else o.destroy(makeError(step.error));
      });
      return;
    case 'destroySoon':
    case 'resetAndDestroy':
    case 'pause':
    case 'resume':
    case 'ref':
    case 'unref':
      attempt(a, () => o[op]());
      return;
    case 'setTimeout':
      attempt(a, () => o.setTimeout(...args(step.ms)));
      return;
    case 'setNoDelay':
      attempt(a, () => o.setNoDelay(...args(step.value)));
      return;
    case 'setKeepAlive':
      attempt(a, () => o.setKeepAlive(...args(step.enable, step.initialDelay)));
      return;
    case 'echo':
      echo(o);
      return;
    case 'addAddress':
      attempt(a, () => o.addAddress(...args(step.address, step.type)));
      return;
    case 'addRange':
      attempt(a, () => o.addRange(...args(step.start, step.end, step.type)));
      return;
    case 'addSubnet':
      attempt(a, () => o.addSubnet(...args(step.net, step.prefix, step.type)));
      return;
    case 'check':
      attempt(a, () => {
        const r = o.check(...args(step.address, step.type));
        const type = step.type === undefined ? 'ipv4' : String(step.type);
        record(a, 'check', `check ${JSON.stringify(step.address)} ${type} ${r}`);
      });
      return;
    default:
      throw new Error(`unhandled operation ${op}`);
  }
}

// ---------------------------------------------------------------------------------------
// The black hole: a child process listening with backlog 1 whose accept queue this process
// fills, and which never accepts, so that further connects hang without RST.

const children = [];
const fillers = [];

function blackhole(step, next) {
  const name = step.actor;
  const opts = substitute(step.options === undefined ? {} : step.options);
  const host = typeof opts.host === 'string' ? opts.host : '127.0.0.1';
  const child = spawn(process.execPath,
    [path.join(__dirname, 'node', 'blackhole-child.js'), host, String(guardMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let done = false;
  const fail = (why) => {
    if (done) return;
    done = true;
    process.stderr.write(`node-runner: blackhole ${name}: ${why}\n`);
    record(actorFor(name, 'blackhole'), '!timeout', '!timeout waiting for blackhole');
    finish(1);
  };
  const timer = setTimeout(() => fail('setup timed out'), BLACKHOLE_SETUP_TIMEOUT);
  child.on('exit', () => fail('child exited'));
  child.on('error', (e) => fail(e.message));
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    if (!buf.includes('\n') || done) return;
    const port = Number(buf.trim());
    const N = 3;
    let connected = 0;
    for (let i = 0; i < N; i++) {
      const f = net.connect({ port, host, autoSelectFamily: false });
      f.on('error', () => {});
      fillers.push(f);
      f.on('connect', () => {
        connected += 1;
        if (connected !== N - 1) return;
        setTimeout(() => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          bind(`$${name}.port`, port);
          bind(`$${name}.address`, host);
          next();
        }, 50);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------
// Running: steps, waits, settle, output.

let scenario;
let guardMs = 0;
let finished = false;
let pc = 0;
let waiting = null; // { actor, event, count, bytes, timer }
let settling = null; // { timer, done } once the steps have run

// Reading: a wait on A counts only what A observed after the previous wait on A was
// satisfied (since A's creation for the first one): the events and bytes up to and including
// the one that satisfies a wait are consumed by it, whatever their kind. So `close srv` then
// `wait srv:close` waits for the close it causes even if an earlier close() on the stopped
// server emitted one before a `wait srv:listening`.
function satisfied(w) {
  const a = actors.get(w.actor);
  if (a === undefined) return false;
  const ok = w.bytes !== undefined ? a.bytesIn >= w.bytes : (a.counts.get(w.event) || 0) >= w.count;
  if (ok) {
    a.counts.clear();
    a.bytesIn = 0;
  }
  return ok;
}

// Reading: "open" = a socket actor that connected (connect step that did not throw, or
// accepted by a server) and has not emitted 'close' since, or a server that is listening.
function openActors() {
  return [...actors.values()].filter((a) =>
    (a.kind === 'socket' && a.live) || (a.kind === 'server' && a.obj !== null && a.obj.listening));
}

onObserved = () => {
  if (finished) return;
  if (waiting !== null && satisfied(waiting)) {
    clearTimeout(waiting.timer);
    waiting = null;
    // Reading: the scenario resumes once the current I/O callbacks are done (setImmediate),
    // so the events Node emits together with the awaited one are recorded first.
    setImmediate(runSteps);
  }
  if (settling !== null) checkSettled();
};

function runSteps() {
  while (!finished && pc < scenario.steps.length) {
    const step = scenario.steps[pc++];
    if (step.wait !== undefined) {
      const colon = step.wait.lastIndexOf(':');
      const w = {
        actor: step.wait.slice(0, colon),
        event: step.wait.slice(colon + 1),
        count: step.count === undefined ? 1 : step.count,
        bytes: step.bytes,
      };
      if (satisfied(w)) continue;
      w.timer = setTimeout(() => {
        waiting = null;
        record(actorFor(w.actor, 'unknown'), '!timeout', `!timeout waiting for ${w.event}`);
        finish(1);
      }, step.timeout === undefined ? DEFAULT_WAIT_TIMEOUT : step.timeout);
      waiting = w;
      return;
    }
    if (step.sleep !== undefined) {
      setTimeout(runSteps, step.sleep);
      return;
    }
    if (step.snapshot !== undefined) {
      snapshot(step);
      continue;
    }
    if (step.do === 'blackhole') {
      runOp(step, runSteps);
      return;
    }
    runOp(step);
  }
  if (!finished && settling === null) {
    const ms = scenario.settle === undefined ? DEFAULT_SETTLE : scenario.settle;
    settling = { timer: setTimeout(() => finish(1), ms), done: false };
    checkSettled();
  }
}

function checkSettled() {
  if (settling.done || openActors().length > 0) return;
  settling.done = true;
  clearTimeout(settling.timer);
  setTimeout(() => finish(0), SETTLE_GRACE);
}

function cleanup() {
  for (const f of fillers) f.destroy();
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (tmpDir !== null) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* best effort */ }
    tmpDir = null;
  }
}

function finish(code) {
  if (finished) return;
  finished = true;
  for (const a of openActors()) a.lines.push('!not closed at end');
  const traces = {};
  for (const a of actors.values()) {
    if (a.kind === 'blackhole' && a.lines.length === 0) continue;
    traces[a.name] = a.lines.map(renderLine);
  }
  const out = `${JSON.stringify({ name: scenario.name, traces }, null, 1)}\n`;
  cleanup();
  process.stdout.write(out, () => process.exit(code));
}

function guardTime(sc) {
  let ms = (sc.settle === undefined ? DEFAULT_SETTLE : sc.settle) + SETTLE_GRACE + GUARD_MARGIN;
  for (const s of sc.steps) {
    if (s.wait !== undefined) ms += s.timeout === undefined ? DEFAULT_WAIT_TIMEOUT : s.timeout;
    if (s.sleep !== undefined) ms += s.sleep;
    if (s.do === 'blackhole') ms += BLACKHOLE_SETUP_TIMEOUT + 100;
  }
  return Math.ceil(ms);
}

function main() {
  const file = process.argv[2];
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node node-runner.js SCENARIO.json\n');
    process.exit(2);
  }
  try {
    scenario = load(file);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    process.stderr.write(`node-runner: ${file}: ${e.message}\n`);
    process.exit(2);
  }
  guardMs = guardTime(scenario);
  const guard = setTimeout(() => {
    process.stderr.write(`node-runner: guard: the scenario ran past ${guardMs} ms\n`);
    finish(1);
  }, guardMs);
  guard.unref();
  process.on('uncaughtException', (e) => {
    process.stderr.write(`node-runner: uncaught exception: ${e && e.stack ? e.stack : e}\n`);
    finish(1);
  });
  process.on('exit', cleanup);
  runSteps();
}

main();
