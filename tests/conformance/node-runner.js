#!/usr/bin/env node
'use strict';
// The reference runner for conformance scenarios (tests/conformance/FORMAT.md, version 2).
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
  'setTimeout', 'setNoDelay', 'setKeepAlive', 'echo', 'socketConnect',
]);
const SERVER_OPS = new Set(['listen', 'close', 'getConnections']);
const BLOCKLIST_OPS = new Set(['addAddress', 'addRange', 'addSubnet', 'check']);
const SOCKET_OR_SERVER_OPS = new Set(['set', 'ref', 'unref', 'address']);
const CREATING_OPS = {
  createServer: 'server', socket: 'socket', blockList: 'blocklist',
  socketAddress: 'socketAddress', blackhole: 'blackhole',
};
const PURE_OPS = new Set([
  'isIP', 'isIPv4', 'isIPv6', 'parseSocketAddress',
  'setDefaultAutoSelectFamily', 'setDefaultAutoSelectFamilyAttemptTimeout',
  'getDefaultAutoSelectFamily', 'getDefaultAutoSelectFamilyAttemptTimeout',
]);
// Reading: `args` goes with every operation that stands for one Node call; `set` (an
// assignment, from `value`), `echo` and `blackhole` (the runner's own) take none.
const NO_ARGS_OPS = new Set(['set', 'echo', 'blackhole']);
// The encodings of JavaScript values in `args`: the keys each may have.
const VALUE_ENCODINGS = {
  $undefined: [], $number: [], $bigint: [], $symbol: [], $buffer: ['encoding'],
  $socketAddress: [], $blockList: [], $function: [],
};
const NUMBER_ENCODINGS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// "ACTOR:EVENT" (wait, on) split at its last ':'; null when it has no such form.
function splitTarget(s) {
  const colon = typeof s === 'string' ? s.lastIndexOf(':') : -1;
  if (colon <= 0 || colon === s.length - 1) return null;
  return { actor: s.slice(0, colon), event: s.slice(colon + 1) };
}

// The kind of actor NAME, given the actors created so far: accepted sockets are
// `SERVER#N` with N ≥ 1.
function kindOf(kinds, name) {
  if (kinds.has(name)) return kinds.get(name);
  const m = /^(.*)#([1-9][0-9]*)$/.exec(name);
  if (m && kinds.get(m[1]) === 'server') return 'socket';
  return undefined;
}

// A JSON value of `args`: objects whose first key starts with `$` must be one of the
// encodings, with their own keys only.
function validateValue(v, at) {
  if (Array.isArray(v)) {
    v.forEach((x) => validateValue(x, at));
    return;
  }
  if (!isPlainObject(v)) return;
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys[0].startsWith('$')) {
    for (const k of keys) validateValue(v[k], at);
    return;
  }
  const enc = keys[0];
  if (!Object.prototype.hasOwnProperty.call(VALUE_ENCODINGS, enc)) at(`unknown value encoding "${enc}"`);
  for (const k of keys.slice(1)) {
    if (!VALUE_ENCODINGS[enc].includes(k)) at(`"${k}" does not go with "${enc}"`);
  }
  const x = v[enc];
  const bad = (what) => at(`"${enc}" ${what}`);
  switch (enc) {
    case '$undefined': if (x !== true) bad('must be true'); break;
    case '$number': if (!NUMBER_ENCODINGS.has(x)) bad('is "NaN", "Infinity", "-Infinity" or "-0"'); break;
    case '$bigint': if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) bad('must be a decimal integer string'); break;
    case '$symbol': case '$function': if (typeof x !== 'string') bad('must be a string'); break;
    case '$buffer':
      if (typeof x !== 'string') bad('must be a string');
      if (v.encoding !== undefined && !(typeof v.encoding === 'string' && Buffer.isEncoding(v.encoding))) {
        bad('has an unknown encoding');
      }
      break;
    case '$socketAddress': if (!isPlainObject(x)) bad('must be an object'); validateValue(x, at); break;
    case '$blockList': if (!Array.isArray(x) || !x.every(isPlainObject)) bad('must be a list of rules'); break;
    default: break;
  }
}

// Validates STEPS (the scenario's, or a reaction's) against the actors known so far,
// adding those they create. ctx: `reaction` (inside an `on`), `servers` (A of every
// enclosing reaction on A:connection, where `A#new` is the socket just accepted), `repeats`
// (an enclosing reaction may run more than once).
function validateSteps(steps, kinds, ctx, where) {
  const fail = (msg) => { throw new ScenarioError(msg); };
  steps.forEach((step, i) => {
    const at = (msg) => fail(`${where}${i + 1}: ${msg}`);
    // The kind of an actor a step names; `A#new` only inside a reaction on A:connection.
    const resolve = (name) => {
      if (typeof name === 'string' && name.endsWith('#new')) {
        const srv = name.slice(0, -'#new'.length);
        if (!ctx.servers.includes(srv)) at(`"${name}" outside a reaction on "${srv}:connection"`);
        return 'socket';
      }
      return kindOf(kinds, name);
    };
    if (!isPlainObject(step)) at('a step is an object');
    if (step.on !== undefined) {
      if (['wait', 'sleep', 'snapshot'].some((k) => step[k] !== undefined)) {
        at('an "on" step has no "wait", "sleep" or "snapshot"');
      }
      const t = splitTarget(step.on);
      if (t === null) at('"on" is "ACTOR:EVENT"');
      if (resolve(t.actor) === undefined) at(`unknown actor "${t.actor}"`);
      if (!Array.isArray(step.do)) at('the "do" of an "on" step is a list of steps');
      if (step.times !== undefined && !(Number.isInteger(step.times) && step.times >= 0)) {
        at('"times" must be an integer >= 0');
      }
      const times = step.times === undefined ? 1 : step.times;
      validateSteps(step.do, kinds, {
        reaction: true,
        servers: t.event === 'connection' ? [...ctx.servers, t.actor] : ctx.servers,
        repeats: ctx.repeats || times !== 1,
      }, `${where}${i + 1}, reaction step `);
      return;
    }
    const keys = ['do', 'wait', 'sleep', 'snapshot'].filter((k) => step[k] !== undefined);
    if (keys.length !== 1) at('a step has exactly one of "do", "wait", "sleep", "snapshot", "on"');
    if (ctx.reaction && (step.wait !== undefined || step.sleep !== undefined || step.do === 'blackhole')) {
      at('a reaction cannot "wait", "sleep" or "blackhole"');
    }
    if (step.wait !== undefined) {
      const t = splitTarget(step.wait);
      if (t === null) at('"wait" is "ACTOR:EVENT"');
      if (resolve(t.actor) === undefined) at(`unknown actor "${t.actor}"`);
      if (step.count !== undefined && !(Number.isInteger(step.count) && step.count >= 1)) {
        at('"count" must be an integer >= 1');
      }
      if (step.bytes !== undefined) {
        if (t.event !== 'data') at('"bytes" only goes with a wait for data');
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
      if (resolve(step.snapshot) === undefined) at(`unknown actor "${step.snapshot}"`);
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
    const kind = resolve(actor);
    if (op === 'connect') {
      // Reading: `connect` on an existing socket actor is `socket.connect` (as socketConnect).
      if (kind !== undefined && kind !== 'socket') at(`"${actor}" is not a socket`);
      kinds.set(actor, 'socket');
    } else if (Object.prototype.hasOwnProperty.call(CREATING_OPS, op)) {
      if (kind !== undefined) at(`actor "${actor}" already exists`);
      // Reading: a reaction that may run more than once cannot create an actor (the second
      // run would create it again); `connect` can, the later runs reconnect it.
      if (ctx.repeats) at(`"${op}" in a reaction that may run more than once`);
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
    if (step.args !== undefined) {
      if (NO_ARGS_OPS.has(op)) at(`"${op}" takes no "args"`);
      if (!Array.isArray(step.args)) at('"args" must be an array');
      validateValue(step.args, at);
    }
    if (step.record !== undefined && step.record !== 'return') at('"record" can only be "return"');
    if (op === 'set' && typeof step.prop !== 'string') at('"prop" must be a string');
    if (op === 'write' || op === 'end') {
      if (step.data !== undefined && step.bytes !== undefined) at('"data" and "bytes" exclude each other');
      if (step.bytes !== undefined && !(Number.isInteger(step.bytes) && step.bytes >= 0)) {
        at('"bytes" must be an integer >= 0');
      }
      if (step.callback !== undefined && typeof step.callback !== 'boolean') at('"callback" must be a boolean');
    }
    if (op === 'createServer' && step.echo !== undefined && typeof step.echo !== 'boolean') {
      at('"echo" must be a boolean');
    }
    if (op === 'destroy' && step.error !== undefined && typeof step.error !== 'string') {
      at('"error" must be a string (an error code)');
    }
  });
}

function validate(sc) {
  const fail = (msg) => { throw new ScenarioError(msg); };
  if (!isPlainObject(sc)) fail('a scenario is a JSON object');
  if (typeof sc.name !== 'string') fail('"name" must be a string');
  if (sc.settle !== undefined && !(typeof sc.settle === 'number' && sc.settle >= 0)) {
    fail('"settle" must be a number >= 0');
  }
  if (sc.errorDetail !== undefined && typeof sc.errorDetail !== 'boolean') {
    fail('"errorDetail" must be a boolean');
  }
  if (sc.waits !== undefined && sc.waits !== 'since-last-wait') {
    fail('"waits" can only be "since-last-wait"');
  }
  if (!Array.isArray(sc.steps)) fail('"steps" must be an array');
  // Reading: the actors a reaction creates are known from its `on` step on (steps after it
  // may wait for them), though they exist only once it has run.
  validateSteps(sc.steps, new Map(), { reaction: false, servers: [], repeats: false }, 'step ');
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
const tmpPaths = new Set(); // every path "$tmp" stood for

// The name a `-> VALUE` line gives to an actor's own object, by the actor's kind.
const OWN_OBJECT_NAMES = {
  socket: 'socket', server: 'server', blocklist: 'blockList', socketAddress: 'socketAddress',
};

function newActor(name, kind) {
  const a = {
    name, kind, obj: null, lines: [], counts: new Map(), bytesIn: 0,
    live: false, // a socket that connected (or was accepted) and has not emitted 'close'
    connections: 0, echo: false,
    used: null, // with "waits": "since-last-wait", the tallies the last satisfied wait used up
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

// The first-bound variable `$X.SUFFIX` holding value, or undefined.
function variableFor(suffix, value) {
  for (const [k, v] of vars) if (k.endsWith(suffix) && v === value) return k;
  return undefined;
}

// Reading: a port in a port position (drop, localPort, remotePort,
// address().port, autoSelectFamilyAttemptedAddresses, a `port`, `localPort` or `remotePort`
// key of a `-> VALUE`) is written as the first-bound variable `$X.port` holding that value,
// else `*` (whatever its origin); a non-number stays as is.
function portText(p) {
  if (typeof p !== 'number') return p;
  const v = variableFor('.port', p);
  return v === undefined ? '*' : v;
}

// A destination port in a connectionAttempt* line: the first-bound variable `$X.port`
// holding it, else the number (it is no peer's ephemeral port: FORMAT.md writes only those
// `*` in event lines).
function destPortText(p) {
  if (typeof p !== 'number') return p;
  const v = variableFor('.port', p);
  return v === undefined ? String(p) : v;
}

// A string equal to a bound path is written as its (first-bound) variable `$X.path`; one
// equal to a `$tmp` path that was never bound as `$tmp`.
function pathText(s) {
  if (typeof s !== 'string') return s;
  const v = variableFor('.path', s);
  if (v !== undefined) return v;
  return tmpPaths.has(s) ? '$tmp' : s;
}

const str = (v) => String(pathText(v));

// An error message, with every bound path and `$tmp` path inside it written as above (the
// longest first), and every bound port written as its variable.
// Reading: a port inside a message is the whole run of digits after a ':' (Node writes
// `ADDRESS:PORT`); other numbers are left alone, and an unbound port stays a number.
function messageText(m) {
  const paths = [...new Set([...[...vars].filter(([k]) => k.endsWith('.path')).map(([, v]) => v),
    ...tmpPaths])].filter((p) => typeof p === 'string' && p !== '').sort((x, y) => y.length - x.length);
  for (const p of paths) m = m.split(p).join(pathText(p));
  return m.replace(/:([0-9]+)(?![0-9])/g, (all, digits) => {
    const v = variableFor('.port', Number(digits));
    return v === undefined ? all : `:${v}`;
  });
}

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

const DETAIL_KEYS = ['address', 'dest', 'localAddress', 'localPort', 'message', 'port', 'syscall'];

// An error where a line ends in its CODE: the code, and with "errorDetail" its details.
// Reading: the error "has" a key when its value (own or inherited) is not undefined, so an
// Error always shows its message (an AggregateError's is ""). A value that is not an object
// has no details.
function errorText(e) {
  const code = codeOf(e);
  if (!scenario.errorDetail || e === null || typeof e !== 'object') return code;
  const d = {};
  for (const k of DETAIL_KEYS) {
    const v = e[k];
    if (v === undefined) continue;
    if (k === 'message') d[k] = messageText(String(v));
    else if (k === 'port' || k === 'localPort') d[k] = typeof v === 'number' && v > 0 ? portText(v) : v;
    else d[k] = pathText(v);
  }
  return `${code} ${JSON.stringify(d)}`;
}

// CODE-or-null, for callbacks and 'lookup'.
const errOrNull = (e) => (e === null || e === undefined ? 'null' : errorText(e));

let onObserved = () => {};
let react = () => {};

// Records LINE on actor a as an occurrence of EVENT (null: a line that is no event, such as
// `NAME -> VALUE`), then runs the reactions to it; `accepted` names the socket that a
// 'connection' line announces.
function record(a, event, line, accepted) {
  a.lines.push(line);
  if (event !== null) {
    a.counts.set(event, (a.counts.get(event) || 0) + 1);
    react(a, event, accepted);
  }
  onObserved();
}

function fnv1a(h, buf) {
  for (let i = 0; i < buf.length; i++) {
    h ^= buf[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// Consecutive 'data' events of an actor (no other line of that actor between them, and no
// reaction to 'data' ran) make one line: the last entry of `lines` is then an open data
// accumulator, rendered at the end.
function recordData(a, chunk) {
  const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
  let d = a.lines[a.lines.length - 1];
  if (!(d !== null && typeof d === 'object' && d.data && d.open)) {
    d = { data: true, open: true, len: 0, hash: 0x811c9dc5, printable: true, text: '' };
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
  // Reading: a reaction that runs on 'data' flushes the merged line: later chunks start a
  // new one, even when the reaction recorded nothing on this actor.
  react(a, 'data', undefined, () => { d.open = false; });
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

function sortKeys(v) {
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = v[k];
  return out;
}

function actorOwning(obj) {
  for (const a of actors.values()) if (a.obj === obj) return a;
  return undefined;
}

const PORT_KEYS = new Set(['port', 'localPort', 'remotePort']);

// The JSON form of a value in `-> VALUE` and of a pure function's first argument: keys
// sorted, ports as in snapshots, strings equal to a bound path as its variable, an actor's
// object as `<B>`, a SocketAddress as its toJSON() (its own port as it is).
// Reading: for what JSON cannot hold, a bigint is its decimal string, a symbol its
// String() ("Symbol(s)"), a function "<function>", NaN and ±Infinity null (JSON.stringify),
// and an object of a class without toJSON "<ClassName>".
function jsonOf(v) {
  if (typeof v === 'string') return pathText(v);
  if (typeof v === 'bigint' || typeof v === 'symbol') return String(v);
  if (typeof v === 'function') return '<function>';
  if (v === null || typeof v !== 'object') return v;
  const owner = actorOwning(v);
  if (owner !== undefined) return `<${owner.name}>`;
  if (v instanceof net.SocketAddress) return sortKeys(v.toJSON());
  if (typeof v.toJSON === 'function') return jsonOf(v.toJSON());
  if (Array.isArray(v)) return v.map(jsonOf);
  const proto = Object.getPrototypeOf(v);
  if (proto !== null && proto !== Object.prototype) {
    return `<${(proto.constructor && proto.constructor.name) || 'object'}>`;
  }
  const out = {};
  for (const k of Object.keys(v).sort()) {
    out[k] = PORT_KEYS.has(k) && typeof v[k] === 'number' ? portText(v[k]) : jsonOf(v[k]);
  }
  return out;
}

// VALUE of `NAME -> VALUE` (and of getter lines) on actor a: its own object by kind, another
// actor's object as `<B>`, `undefined`, else JSON.
function valueText(a, v) {
  if (v === undefined) return 'undefined';
  if (a !== undefined && v !== null && typeof v === 'object' && v === a.obj) {
    return OWN_OBJECT_NAMES[a.kind] || `<${a.name}>`;
  }
  return JSON.stringify(jsonOf(v));
}

// ---------------------------------------------------------------------------------------
// Options and args: variables, $tmp, the two JSON encodings of options (blockList rules,
// lookup answers) and the encodings of JavaScript values.

let tmpDir = null;
let tmpCount = 0;

function freshTmpPath() {
  if (tmpDir === null) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sansnet-node-runner-'));
  tmpCount += 1;
  const p = path.join(tmpDir, `s${tmpCount}.sock`);
  tmpPaths.add(p);
  return p;
}

// Reading: every string starting with `$`, at any depth of `options` (and of `args`), is
// replaced: `$tmp` by a fresh path, a bound variable by its value; an unbound `$…` string is
// left as it is.
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
// all of them when asked for all, else the first.
// Reading: with no answers it fails with ENOTFOUND either way, as dns.lookup does (Node 20
// cannot handle an empty list: an uncaught TypeError).
function makeLookup(answers) {
  const list = answers.map((x) => (Array.isArray(x) ? { address: x[0], family: x[1] } : x));
  return function lookup(hostname, options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    if (list.length === 0) {
      const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      e.code = 'ENOTFOUND';
      e.syscall = 'getaddrinfo';
      e.hostname = hostname;
      process.nextTick(cb, e);
    } else if (options && options.all) {
      process.nextTick(cb, null, list.map((x) => ({ ...x })));
    } else {
      process.nextTick(cb, null, list[0].address, list[0].family);
    }
  };
}

// The options of a step, ready for Node, or undefined when the step has none (an absent
// key is an absent argument). Throws what building a BlockList throws.
function options(step) {
  if (step.options === undefined) return undefined;
  const o = substitute(step.options);
  if (Array.isArray(o.blockList)) o.blockList = makeBlockList(o.blockList);
  if (Array.isArray(o.lookup)) o.lookup = makeLookup(o.lookup);
  return o;
}

// Drop trailing undefined arguments, so an absent step key is an absent argument (one
// before a present key is passed as undefined).
function positional(...list) {
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
  return list;
}

// `{"$function":NAME}`: a function named NAME that records `call NAME ERR-or-null` on
// actor a (its first argument's code when that is an Error, else null) and returns
// undefined.
function makeFunction(name, a) {
  const holder = {
    [name](...xs) {
      const err = xs[0] instanceof Error ? errorText(xs[0]) : 'null';
      record(a, `call ${name}`, `call ${name} ${err}`);
    },
  };
  return holder[name];
}

// The JavaScript value of an `args` entry, for a step on actor a. Throws what a
// constructor used by an encoding throws (recorded as the step's `throws`).
function jsValue(v, a) {
  if (typeof v === 'string') return substitute(v);
  if (Array.isArray(v)) return v.map((x) => jsValue(x, a));
  if (!isPlainObject(v)) return v;
  const keys = Object.keys(v);
  if (keys.length > 0 && keys[0].startsWith('$')) {
    const x = v[keys[0]];
    switch (keys[0]) {
      case '$undefined': return undefined;
      case '$number': return Number(x);
      case '$bigint': return BigInt(x);
      case '$symbol': return Symbol(x);
      case '$buffer': return Buffer.from(x, v.encoding === undefined ? 'utf8' : v.encoding);
      case '$socketAddress': return new net.SocketAddress(jsValue(x, a));
      case '$blockList': return makeBlockList(substitute(x));
      case '$function': return makeFunction(x, a);
      default: throw new Error(`unhandled value encoding ${keys[0]}`);
    }
  }
  const o = {};
  for (const k of keys) o[k] = jsValue(v[k], a);
  if (Array.isArray(v.blockList)) o.blockList = makeBlockList(substitute(v.blockList));
  if (Array.isArray(v.lookup)) o.lookup = makeLookup(substitute(v.lookup));
  return o;
}

// The arguments of a Node call: the step's `args` as JavaScript values, or else those that
// fallback() builds from its other keys.
function callArgs(step, a, fallback) {
  return step.args !== undefined ? step.args.map((v) => jsValue(v, a)) : fallback();
}

// ---------------------------------------------------------------------------------------
// Tracing sockets and servers. The runner adds these listeners when the creating call has
// returned, so a listener Node added inside that call (a callback passed to it) runs first.

function traceSocket(a) {
  const s = a.obj;
  s.on('lookup', (err, address, family, host) => record(a, 'lookup',
    `lookup ${errOrNull(err)} ${str(address)} ${str(family)} ${str(host)}`));
  s.on('connectionAttempt', (ip, port, family) => record(a, 'connectionAttempt',
    `connectionAttempt ${str(ip)} ${destPortText(port)} ${str(family)}`));
  s.on('connectionAttemptFailed', (ip, port, family, err) => record(a, 'connectionAttemptFailed',
    `connectionAttemptFailed ${str(ip)} ${destPortText(port)} ${str(family)} ${errorText(err)}`));
  s.on('connectionAttemptTimeout', (ip, port, family) => record(a, 'connectionAttemptTimeout',
    `connectionAttemptTimeout ${str(ip)} ${destPortText(port)} ${str(family)}`));
  for (const ev of ['connect', 'ready', 'end', 'finish', 'drain', 'timeout']) {
    s.on(ev, () => record(a, ev, ev));
  }
  s.on('data', (chunk) => recordData(a, chunk));
  s.on('error', (err) => record(a, 'error', `error ${errorText(err)}`));
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
    record(a, 'connection', `connection ${child.name}`, child.name);
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
  srv.on('error', (err) => record(a, 'error', `error ${errorText(err)}`));
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

// Makes the Node call of step (fn, returning what the call returned) for actor a: a
// synchronous throw records `throws CODE` on the actor; with "record":"return", the
// returned value records `NAME -> VALUE` after the lines the call itself recorded.
function attempt(a, step, fn) {
  let ret;
  try {
    ret = fn();
  } catch (e) {
    record(a, 'throws', `throws ${errorText(e)}`);
    return false;
  }
  if (step.record === 'return') record(a, null, `${step.do} -> ${valueText(a, ret)}`);
  return true;
}

// The path that server.listen(...list) listens on, as Node reads its first argument: an
// options object's `path`, or a string that is not a number >= 0 (Node's isPipeName).
function listenPath(first) {
  if (isPlainObject(first)) return typeof first.path === 'string' && first.path !== '' ? first.path : undefined;
  if (typeof first === 'string' && !(Number(first) >= 0)) return first;
  return undefined;
}

// write(data, encoding, cb) and end(data, encoding, cb) from the step's keys.
function writeOrEndArgs(a, step) {
  const op = step.do;
  const chunk = step.bytes !== undefined ? bytes(step.bytes) : step.data;
  const cb = step.callback ?
    (err) => record(a, `${op}Callback`, `${op}Callback ${errOrNull(err)}`) : undefined;
  return positional(chunk, step.encoding, cb);
}

// The first argument of a pure function, as its line prints it: the step's key as JSON
// (v1), or with `args` the JavaScript value as in `-> VALUE`.
function firstText(step, list, key) {
  return step.args !== undefined ? valueText(undefined, list[0]) : String(JSON.stringify(step[key]));
}

// Operations that create their actor, or that need no object (pure functions, the
// process-wide defaults). Returns false for the others.
function runCreatingOrPure(step, next) {
  const op = step.do;
  const name = step.actor;
  switch (op) {
    case 'createServer': {
      const a = newActor(name, 'server');
      a.echo = step.echo === true;
      attempt(a, step, () => {
        a.obj = net.createServer(...callArgs(step, a, () => positional(options(step))));
        traceServer(a);
        return a.obj;
      });
      return true;
    }
    case 'connect': {
      // Reading: connect on an existing socket actor is socket.connect (as socketConnect).
      if (actors.has(name)) return false;
      const a = newActor(name, 'socket');
      attempt(a, step, () => {
        a.obj = net.createConnection(...callArgs(step, a, () => positional(options(step))));
        a.live = true;
        traceSocket(a);
        return a.obj;
      });
      return true;
    }
    case 'socket': {
      const a = newActor(name, 'socket');
      attempt(a, step, () => {
        a.obj = new net.Socket(...callArgs(step, a, () => positional(options(step))));
        traceSocket(a);
        return a.obj;
      });
      return true;
    }
    case 'blockList': {
      const a = newActor(name, 'blocklist');
      attempt(a, step, () => {
        a.obj = new net.BlockList(...callArgs(step, a, () => []));
        return a.obj;
      });
      return true;
    }
    case 'socketAddress': {
      const a = newActor(name, 'socketAddress');
      attempt(a, step, () => {
        a.obj = new net.SocketAddress(...callArgs(step, a, () => positional(options(step))));
        return a.obj;
      });
      return true;
    }
    case 'blackhole':
      blackhole(step, next);
      return true;
    case 'isIP':
    case 'isIPv4':
    case 'isIPv6': {
      const a = actorFor(name, 'pure');
      attempt(a, step, () => {
        const list = callArgs(step, a, () => positional(step.input));
        const r = net[op](...list);
        record(a, op, `${op} ${firstText(step, list, 'input')} ${valueText(a, r)}`);
        return r;
      });
      return true;
    }
    case 'parseSocketAddress': {
      const a = actorFor(name, 'pure');
      attempt(a, step, () => {
        const list = callArgs(step, a, () => positional(step.input));
        const sa = parseSocketAddress(...list);
        const text = sa === undefined ? 'undefined' :
          JSON.stringify({ address: sa.address, family: sa.family, port: sa.port });
        record(a, 'parse', `parse ${firstText(step, list, 'input')} ${text}`);
        return sa;
      });
      return true;
    }
    case 'getDefaultAutoSelectFamily':
    case 'getDefaultAutoSelectFamilyAttemptTimeout': {
      const a = actorFor(name, 'pure');
      attempt(a, step, () => {
        const v = net[op](...callArgs(step, a, () => []));
        record(a, op, `${op} ${valueText(a, v)}`);
        return v;
      });
      return true;
    }
    case 'setDefaultAutoSelectFamily':
    case 'setDefaultAutoSelectFamilyAttemptTimeout': {
      const a = actorFor(name, 'pure');
      attempt(a, step, () => net[op](...callArgs(step, a, () => positional(step.value))));
      return true;
    }
    default:
      return false;
  }
}

function runOp(step, next) {
  if (runCreatingOrPure(step, next)) return;
  const op = step.do;
  const name = step.actor;
  const a = actors.get(name);
  // Reading: an operation on an actor whose creation threw (or that a reaction that has not
  // run yet would create) records nothing.
  if (a === undefined || a.obj === null) return;
  const o = a.obj;
  const call = (method, fallback) => attempt(a, step, () => o[method](...callArgs(step, a, fallback)));
  switch (op) {
    case 'connect':
    case 'socketConnect':
      attempt(a, step, () => {
        const r = o.connect(...callArgs(step, a, () => positional(options(step))));
        a.live = true;
        return r;
      });
      return;
    case 'listen':
      attempt(a, step, () => {
        const list = callArgs(step, a, () => positional(options(step)));
        // `$A.path` is bound when listen is called (before the call, so that what the call
        // throws may name it).
        const p = listenPath(list[0]);
        if (p !== undefined) bind(`$${name}.path`, p);
        return o.listen(...list);
      });
      return;
    case 'set':
      attempt(a, step, () => {
        o[step.prop] = step.value;
        return step.value;
      });
      return;
    case 'close':
      call('close', () => [(err) => record(a, 'closeCallback', `closeCallback ${errOrNull(err)}`)]);
      return;
    case 'getConnections':
      call('getConnections', () => [(err, n) => record(a, 'connections',
        `connections ${err ? errorText(err) : n}`)]);
      return;
    case 'address':
      call('address', () => []);
      return;
    case 'write':
    case 'end':
      call(op, () => writeOrEndArgs(a, step));
      return;
    case 'destroy':
      call('destroy', () => positional(step.error === undefined ? undefined : makeError(step.error)));
      return;
    case 'destroySoon':
    case 'resetAndDestroy':
    case 'pause':
    case 'resume':
    case 'ref':
    case 'unref':
      call(op, () => []);
      return;
    case 'setTimeout':
      call('setTimeout', () => positional(step.ms));
      return;
    case 'setNoDelay':
      call('setNoDelay', () => positional(step.value));
      return;
    case 'setKeepAlive':
      call('setKeepAlive', () => positional(step.enable, step.initialDelay));
      return;
    case 'echo':
      attempt(a, step, () => echo(o));
      return;
    case 'addAddress':
      call('addAddress', () => positional(step.address, step.type));
      return;
    case 'addRange':
      call('addRange', () => positional(step.start, step.end, step.type));
      return;
    case 'addSubnet':
      call('addSubnet', () => positional(step.net, step.prefix, step.type));
      return;
    case 'check':
      attempt(a, step, () => {
        const list = callArgs(step, a, () => positional(step.address, step.type));
        const r = o.check(...list);
        const type = list[1] === undefined ? 'ipv4' : String(list[1]);
        record(a, 'check', `check ${firstText(step, list, 'address')} ${type} ${r}`);
        return r;
      });
      return;
    default:
      throw new Error(`unhandled operation ${op}`);
  }
}

// ---------------------------------------------------------------------------------------
// Reactions: `{"on":"A:EVENT","do":[…],"times":N}`.

const reactions = new Map(); // actor name -> [{ event, steps, left }], in the order added

function addReaction(step) {
  const t = splitTarget(step.on);
  if (!reactions.has(t.actor)) reactions.set(t.actor, []);
  const times = step.times === undefined ? 1 : step.times;
  reactions.get(t.actor).push({ event: t.event, steps: step.do, left: times === 0 ? Infinity : times });
}

// The steps of a reaction on SERVER:connection with `SERVER#new` (from) replaced by the
// accepted socket (to) in the actor of operations, the actor of snapshots and the actor
// part of nested `on` steps, and in the steps of those nested reactions, except in a
// nested reaction on SERVER:connection itself (there it means that later socket).
function renameNew(steps, server, from, to) {
  return steps.map((s) => {
    const t = { ...s };
    if (t.on !== undefined) {
      const target = splitTarget(t.on);
      const actor = target.actor === from ? to : target.actor;
      t.on = `${actor}:${target.event}`;
      if (!(actor === server && target.event === 'connection')) t.do = renameNew(t.do, server, from, to);
      return t;
    }
    if (t.actor === from) t.actor = to;
    if (t.snapshot === from) t.snapshot = to;
    return t;
  });
}

function runReactionStep(step) {
  if (step.on !== undefined) addReaction(step);
  else if (step.snapshot !== undefined) snapshot(step);
  else runOp(step);
}

// After a's line for EVENT: runs, in the order they were added, the reactions to it that
// were there before it (one added meanwhile waits for the next occurrence); onRun is
// called first when at least one runs.
react = (a, event, accepted, onRun) => {
  if (finished) return;
  const list = reactions.get(a.name);
  if (list === undefined) return;
  const due = list.filter((r) => r.event === event && r.left > 0);
  if (due.length > 0 && onRun !== undefined) onRun();
  for (const r of due) {
    r.left -= 1;
    const steps = event === 'connection' && accepted !== undefined ?
      renameNew(r.steps, a.name, `${a.name}#new`, accepted) : r.steps;
    for (const s of steps) runReactionStep(s);
  }
};


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
    record(actorFor(name, 'blackhole'), null, '!timeout waiting for blackhole');
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

// A wait counts what its actor observed in all since it was created: `count` occurrences
// of the event, or `bytes` bytes received. With the project extension
// `"waits": "since-last-wait"` it counts only what the actor observed after its previous
// satisfied wait: a satisfied wait uses up every event count and the byte count of its
// actor (a.used).
function satisfied(w) {
  const a = actors.get(w.actor);
  if (a === undefined) return false;
  const used = a.used || { counts: new Map(), bytes: 0 };
  const ok = w.bytes !== undefined ? a.bytesIn - used.bytes >= w.bytes :
    (a.counts.get(w.event) || 0) - (used.counts.get(w.event) || 0) >= w.count;
  if (ok && scenario.waits === 'since-last-wait') a.used = { counts: new Map(a.counts), bytes: a.bytesIn };
  return ok;
}

// Reading: "open" = a socket actor that connected (connect or socketConnect step that did
// not throw, or accepted by a server) and has not emitted 'close' since, or a server that is
// listening.
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
    if (step.on !== undefined) {
      addReaction(step);
      continue;
    }
    if (step.wait !== undefined) {
      const t = splitTarget(step.wait);
      const w = {
        actor: t.actor,
        event: t.event,
        count: step.count === undefined ? 1 : step.count,
        bytes: step.bytes,
      };
      // Reading: a wait that is already satisfied also resumes on setImmediate, like one
      // satisfied later: what the steps before it set off in this turn (next ticks, the
      // rest of the current loop phase) is recorded before the steps after it run.
      if (satisfied(w)) {
        setImmediate(runSteps);
        return;
      }
      w.timer = setTimeout(() => {
        waiting = null;
        record(actorFor(w.actor, 'unknown'), null, `!timeout waiting for ${w.event}`);
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
