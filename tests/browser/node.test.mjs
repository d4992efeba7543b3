// The package's Node entry (no browser): encode / decode, the real-time
// classes through wasm memory, the wire adapters, and the SharedArrayBuffer
// ring (pure JS, shared by the main thread and the worklet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vox from '../../pkg/src/node.js';
import { Ring } from '../../pkg/src/worklet/ring.js';
import { REPO, readWav, toI16 } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');

function rtpdump(name) {
  const buf = readFileSync(join(REPO, 'tests/fixtures', `${name}.rtpdump`));
  let i = buf.indexOf(10) + 1 + 16;
  const out = [];
  while (i + 8 <= buf.length) {
    const len = buf.readUInt16BE(i), plen = buf.readUInt16BE(i + 2), off = buf.readUInt32BE(i + 4);
    if (plen) out.push({ off, bytes: new Uint8Array(buf.subarray(i + 8, i + len)) });
    i += len;
  }
  return out;
}

test('node entry: CodecDecoder of the fixture payloads = native decode, bit-exact', async () => {
  for (const [name, rtpmap] of [['pcmu', 'PCMU/8000'], ['g722', 'G722/8000'], ['l16', 'L16/16000/1']]) {
    const ref = (await readWav(join(REF, `${name}.wav`))).data[0];
    const dec = new vox.CodecDecoder(rtpmap);
    const pcm = [];
    for (const p of rtpdump(name)) pcm.push(...dec.decode(p.bytes.subarray(12)));
    assert.equal(pcm.length, ref.length, name);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(toI16(pcm[i]) - toI16(ref[i])));
    assert.equal(diff, 0, `${name}: max diff ${diff} LSB`);
    dec.free();
  }
});

test('node entry: Sender → Receiver through wasm memory, a tone survives', () => {
  const tx = new vox.Sender({ codec: 'PCMU/8000', inputRate: 48000, inputChannels: 1, ssrc: 42, seed: [1, 2] });
  const rx = new vox.Receiver({ outputRate: 48000 }); // telephone-event on 101 by default
  const out = [];
  tx.sendDtmf('7', 100, 10);
  for (let q = 0; q < 400; q++) {
    const now = (q * 128) / 48;
    const x = Float32Array.from({ length: 128 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * (q * 128 + i)) / 48000));
    for (const p of vox.encode(tx, [x], now)) vox.push(rx, p, now);
    out.push(...vox.render(rx, 128, 1, now)[0]);
  }
  const s = vox.stats(rx);
  let events = [];
  for (let k; (k = rx.pollEvent()) !== 0;) events.push(k);
  const tail = out.slice(-24000);
  const rms = Math.sqrt(tail.reduce((a, v) => a + v * v, 0) / tail.length);
  assert.ok(s.packetsReceived > 40 && s.errors === 0, JSON.stringify(s));
  assert.ok(Math.abs(rms - 0.3 / Math.SQRT2) < 0.03, `rms ${rms}`);
  const { EventKind } = vox;
  assert.ok(events.includes(EventKind.DtmfBegin) && events.includes(EventKind.DtmfEnd), `DTMF begin and end events (${events})`);
  assert.equal(vox.stats(tx).ssrc, 42);
});

// Left = a tone, right = its negation: planar output must keep them apart
// (a layout slip, e.g. interleaved samples in the planar block, breaks
// right = −left) at the source rate, so nothing is resampled.
test('node entry: stereo Receiver and StreamPlayer render planar channels', () => {
  const rate = 16000, frames = 320; // 20 ms packets of L16/16000/2 (1280 B)
  const tone = (n) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / rate));
  const stereoL16 = (k, littleEndian) => {
    const dv = new DataView(new ArrayBuffer(frames * 4));
    for (let i = 0; i < frames; i++) {
      const v = tone(k * frames + i);
      dv.setInt16(i * 4, v, littleEndian);
      dv.setInt16(i * 4 + 2, -v, littleEndian);
    }
    return new Uint8Array(dv.buffer);
  };
  const check = (name, left, right) => {
    let energy = 0, worst = 0;
    for (let i = 0; i < left.length; i++) {
      energy += left[i] * left[i];
      worst = Math.max(worst, Math.abs(left[i] + right[i]));
    }
    assert.ok(energy / left.length > 0.01, `${name}: the tone plays (mean square ${energy / left.length})`);
    assert.ok(worst < 1e-6, `${name}: right = −left (worst ${worst})`);
  };

  const rx = new vox.Receiver({ outputRate: rate, outputChannels: 2, payloadTypes: { 96: 'L16/16000/2' } });
  const L = [], R = [];
  let k = 0;
  for (let q = 0; q < 600; q++) {
    const now = (q * 128 * 1000) / rate;
    while (k * 20 <= now) {
      const pkt = new Uint8Array(12 + frames * 4);
      const h = new DataView(pkt.buffer);
      h.setUint8(0, 0x80); h.setUint8(1, 96); h.setUint16(2, k); h.setUint32(4, k * frames); h.setUint32(8, 7);
      pkt.set(stereoL16(k, false), 12); // RTP's L16 is network order
      vox.push(rx, pkt, k * 20);
      k++;
    }
    const [l, r] = vox.render(rx, 128, 2, now);
    L.push(...l); R.push(...r);
  }
  assert.equal(vox.stats(rx).errors, 0);
  check('Receiver', L.slice(-16000), R.slice(-16000));
  rx.free();

  const sp = new vox.StreamPlayer({ outputRate: rate, outputChannels: 2, format: `l16/${rate}/2` });
  for (let j = 0; j < 40; j++) vox.push(sp, stereoL16(j, true)); // 800 ms
  const SL = [], SR = [];
  for (let q = 0; q < 200; q++) {
    const [l, r] = vox.render(sp, 128, 2, (q * 128 * 1000) / rate);
    SL.push(...l); SR.push(...r);
  }
  check('StreamPlayer', SL.slice(1600, 11200), SR.slice(1600, 11200));
  sp.free();
});

test('node entry: StreamPlayer marks and clear', () => {
  const sp = new vox.StreamPlayer({ outputRate: 48000, format: 'pcmu' });
  vox.push(sp, new Uint8Array(800).fill(0x95)); // 100 ms
  sp.mark(1);
  vox.push(sp, new Uint8Array(800).fill(0x95));
  sp.mark(2);
  const kinds = [];
  for (let q = 0; q < 60; q++) {
    vox.render(sp, 128, 1, (q * 128) / 48);
    for (let k; (k = sp.pollEvent()) !== 0;) kinds.push(k);
    if (q === 50) sp.clear();
  }
  // Mark 1 reached (after 100 ms ≈ 38 quanta), mark 2 cleared.
  assert.ok(kinds.includes(vox.EventKind.Mark) && kinds.includes(vox.EventKind.MarkCleared), `events ${kinds}`);
  assert.equal(vox.stats(sp).clears, 1);
});

test('node entry: wire adapters (twilio, asterisk, l16-meta)', () => {
  const tw = vox.wire('twilio');
  const items = tw.receive(JSON.stringify({ event: 'start', streamSid: 'MZ1', start: { streamSid: 'MZ1', callSid: 'CA1', mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
  assert.equal(items[0].kind, 'start');
  assert.equal(items[0].format, 'pcmu');
  assert.equal(JSON.parse(items[0].json).streamSid, 'MZ1');
  const media = tw.receive(JSON.stringify({ event: 'media', media: { payload: 'AAEC' } }));
  assert.deepEqual(Array.from(media[0].bytes), [0, 1, 2]);
  assert.equal(tw.receive('{"event":"clear","streamSid":"MZ1"}')[0].kind, 'clear');
  assert.equal(tw.receive('not json')[0].kind, 'error');
  const rtp = new Uint8Array([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 1, 2, 3]);
  const out = JSON.parse(tw.media(rtp, 0));
  assert.equal(out.streamSid, 'MZ1');
  assert.equal(Buffer.from(out.media.payload, 'base64').toString('hex'), '010203');
  assert.equal(JSON.parse(tw.markMessage('x')).mark.name, 'x');

  const ast = vox.wire('asterisk');
  assert.equal(ast.receive(new Uint8Array(10))[0].kind, 'error'); // media before MEDIA_START
  assert.equal(ast.receive('MEDIA_START format:slin16 optimal_frame_size:640')[0].format, 'l16/16000/1');
  assert.equal(ast.receive(new Uint8Array(700))[0].bytes.length, 640); // re-framed
  assert.equal(ast.receive(new Uint8Array(600))[0].bytes.length, 640);
  assert.equal(ast.command('FLUSH_MEDIA'), 'FLUSH_MEDIA');
  assert.equal(ast.receive('DTMF_END digit:#')[0].text, '#');

  const l16 = vox.wire('l16-meta');
  assert.equal(l16.receive('{"sampleRate":8000}')[0].format, 'l16/8000/1');
  assert.equal(l16.receive(new Uint8Array(5))[0].bytes.length, 4); // odd byte carried
  const be = new Uint8Array([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x12, 0x34]);
  assert.deepEqual(Array.from(l16.media(be, 96)), [0x34, 0x12]); // sent little-endian
});

test('ring: records in order across the wrap, full ring drops and counts, times kept', () => {
  const r = new Ring(Ring.create(1024));
  const w = new Ring(r.sab);
  const dest = new Uint8Array(2048);
  let next = 0, got = 0;
  for (let round = 0; round < 200; round++) {
    const len = (round * 37) % 300;
    const b = Uint8Array.from({ length: len }, (_, i) => (round + i) & 255);
    if (w.push(b, round, round * 1.5)) next++;
    if (round % 5 === 4) {
      let n;
      while ((n = r.next()) >= 0) {
        const tag = r.tag;
        assert.equal(r.time, tag * 1.5);
        r.read(dest, 0);
        for (let i = 0; i < n; i++) assert.equal(dest[i], (tag + i) & 255);
        got++;
      }
    }
  }
  while (r.next() >= 0) { r.skip(); got++; }
  assert.equal(got, next);
  assert.ok(w.dropped > 0 && w.dropped + next === 200, `dropped ${w.dropped}`);
});
