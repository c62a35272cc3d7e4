'use strict';
// Loopback stand-in for the HTTP front of a Jaeger collector (POST /api/traces),
// doing what the collector's handler does before storing: accept only the
// Content-Types "application/x-thrift" / "application/vnd.apache.thrift.binary"
// and deserialize the body as a Thrift binary-protocol `Batch`. The Batch is
// decoded with the official jaeger-idl `thrift/jaeger.thrift` shipped inside
// the `jaeger-client` npm package (jaegertracing/jaeger-client-node) using
// `thriftrw`, the Thrift library that client encodes with — an implementation
// independent of ours. It is NOT a Jaeger collector; see README.md.
//
// usage: node collector_check.js <node_modules dir> <probe binary>
const http = require('http');
const path = require('path');
const fs = require('fs');
const { execFile } = require('child_process');

const [modules, probe] = process.argv.slice(2);
const { Thrift } = require(path.join(modules, 'thriftrw'));
const idlPath = path.join(modules, 'jaeger-client/dist/src/jaeger-idl/thrift/jaeger.thrift');
const thrift = new Thrift({ source: fs.readFileSync(idlPath, 'utf8'), allowOptionalArguments: true });
const Batch = thrift.getType('Batch');

const ACCEPTED = new Set(['application/x-thrift', 'application/vnd.apache.thrift.binary']);
const failures = [];
let passed = 0;
function check(cond, what) {
  if (cond) passed++;
  else failures.push(what);
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
}
const hex = buf => Buffer.from(buf).toString('hex');
const i64 = buf => Number(Buffer.from(buf).readBigInt64BE());
const batches = [];
const rejected = [];

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ct = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (req.method !== 'POST' || req.url.split('?')[0] !== '/api/traces') {
      rejected.push(`${req.method} ${req.url}`); res.writeHead(404); res.end(); return;
    }
    if (!ACCEPTED.has(ct)) {
      rejected.push(`Unsupported content type: ${ct}`); res.writeHead(400); res.end(`Unsupported content type: ${ct}`); return;
    }
    const r = Batch.fromBufferResult(body); // fails on a short read, bytes left over, a bad type or a missing required field
    if (r.err) {
      rejected.push(`Unable to process request body: ${r.err.message}`); res.writeHead(400); res.end(r.err.message); return;
    }
    batches.push({ batch: r.value, bytes: body.length, ct, body });
    res.writeHead(202); res.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/api/traces`;
  execFile(probe, [url], { timeout: 60000 }, (err, stdout, stderr) => {
    server.close();
    if (stderr.trim()) console.log(`probe stderr: ${stderr.trim()}`);
    let ids = {};
    try { ids = JSON.parse(stdout.trim().split('\n').pop()); } catch (e) { /* checked below */ }
    check(!err && ids.flushed === true, `probe ran and flushed (${err ? err.message : 'exit 0'})`);
    check(rejected.length === 0, `no request rejected${rejected.length ? ': ' + rejected.join(' | ') : ''}`);
    check(batches.length >= 1, `${batches.length} Batch(es) decoded with jaeger.thrift (${batches.map(b => b.bytes + ' B, ' + b.ct).join('; ')})`);
    // Negative controls: the decoder is strict, so a damaged body must not decode.
    if (batches.length) {
      const body = batches[0].body;
      check(Batch.fromBufferResult(body.subarray(0, body.length - 1)).err, 'control: the body minus its last byte is rejected');
      check(Batch.fromBufferResult(Buffer.concat([body, Buffer.from([0])])).err, 'control: the body plus a trailing byte is rejected');
    }
    const spans = [];
    for (const { batch } of batches) {
      check(batch.process.serviceName === 'probe-svc', `Process.serviceName = ${JSON.stringify(batch.process.serviceName)}`);
      const ptags = Object.fromEntries((batch.process.tags || []).map(t => [t.key, t]));
      check(ptags['service.version'] && ptags['service.version'].vStr === '9.9.9', 'process tag service.version = "9.9.9" (vType STRING)');
      check(ptags['host.name'] && ptags['host.name'].vStr === 'probe-host', 'process tag host.name = "probe-host"');
      check(!('service.name' in ptags), 'service.name is not repeated as a process tag');
      for (const s of batch.spans) spans.push(s);
    }
    const byId = new Map(spans.map(s => [hex(s.spanId), s]));
    check(spans.length === 4, `4 spans received (got ${spans.length})`);
    const tag = (s, k) => (s.tags || []).find(t => t.key === k);
    // Tag value fields must agree with vType, as the collector's converter reads only the field vType names.
    const TT = ['STRING', 'DOUBLE', 'BOOL', 'LONG', 'BINARY'];
    const field = { STRING: 'vStr', DOUBLE: 'vDouble', BOOL: 'vBool', LONG: 'vLong', BINARY: 'vBinary' };
    let tagsOk = true;
    for (const s of spans) for (const t of [...(s.tags || []), ...(s.logs || []).flatMap(l => l.fields)]) {
      const vt = typeof t.vType === 'number' ? TT[t.vType] : t.vType;
      const set = Object.keys(field).map(k => field[k]).filter(f => t[f] !== null && t[f] !== undefined);
      if (set.length !== 1 || set[0] !== field[vt]) { tagsOk = false; console.log(`  tag ${t.key}: vType ${vt}, fields set ${set}`); }
    }
    check(tagsOk, 'every Tag sets exactly the value field its vType names');
    const root = byId.get(ids.root), child = byId.get(ids.child), leaf = byId.get(ids.leaf), other = byId.get(ids.other_span);
    check(root && child && leaf && other, 'the probe\'s four span ids are all present');
    if (root && child && leaf && other) {
      const tid = s => hex(s.traceIdHigh) + hex(s.traceIdLow);
      check(tid(root) === ids.trace && tid(child) === ids.trace && tid(leaf) === ids.trace, 'traceIdHigh|traceIdLow = the 128-bit trace id');
      check(tid(other) === ids.other_trace, 'the linked span keeps its own trace id');
      check(hex(root.parentSpanId) === '0000000000000000', 'root: parentSpanId = 0');
      check(hex(child.parentSpanId) === ids.root && hex(leaf.parentSpanId) === ids.child, 'children: parentSpanId = parent span id');
      const refs = s => (s.references || []).map(r => ({ type: typeof r.refType === 'number' ? ['CHILD_OF', 'FOLLOWS_FROM'][r.refType] : r.refType, trace: hex(r.traceIdHigh) + hex(r.traceIdLow), span: hex(r.spanId) }));
      const cr = refs(child);
      check(cr.some(r => r.type === 'FOLLOWS_FROM' && r.span === ids.other_span && r.trace === ids.other_trace), `link -> FOLLOWS_FROM reference to the other trace's span (${JSON.stringify(cr)})`);
      check(root.flags === 1 && child.flags === 1, 'flags = 1 (sampled)');
      check(i64(root.startTime) > 1.5e15 && i64(root.startTime) < 4e15 && i64(root.duration) >= 0 && i64(leaf.startTime) >= i64(root.startTime), 'startTime in microseconds since the epoch, duration >= 0');
      const kind = tag(root, 'span.kind'), ckind = tag(child, 'span.kind');
      check(kind && kind.vStr === 'server' && ckind && ckind.vStr === 'client' && !tag(leaf, 'span.kind'), 'span.kind = server / client, none for internal');
      const sc = tag(root, 'http.response.status_code');
      check(sc && (sc.vType === 'LONG' || sc.vType === 3) && i64(sc.vLong) === 200, 'int attribute -> LONG 200');
      const d = tag(root, 'probe.double'), b = tag(root, 'probe.bool'), a = tag(root, 'probe.array');
      check(d && d.vDouble === 2.5 && b && b.vBool === true, 'double -> DOUBLE 2.5, bool -> BOOL true');
      check(a && a.vStr === '[1,2,3]', `array -> STRING holding a JSON list (${a && JSON.stringify(a.vStr)})`);
      const err = tag(leaf, 'error'), st = tag(leaf, 'otel.status_code');
      check(err && err.vBool === true && st && st.vStr === 'ERROR', 'error span: error=true, otel.status_code=ERROR');
      const ev = (child.logs || [])[0];
      check(ev && ev.fields.some(f => f.key === 'event' && f.vStr === 'retry') && ev.fields.some(f => f.key === 'attempt'), 'event -> Log with event="retry" and its attribute');
      const ex = (leaf.logs || []).find(l => l.fields.some(f => f.key === 'event' && f.vStr === 'exception'));
      check(ex && ex.fields.some(f => f.key === 'exception.message' && f.vStr === 'boom'), 'record_error -> Log event="exception", exception.message="boom"');
    }
    console.log(`${passed} passed, ${failures.length} failed`);
    process.exit(failures.length ? 1 : 0);
  });
});
