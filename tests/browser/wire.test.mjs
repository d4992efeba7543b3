// Wire formats end to end over a real WebSocket: a Node server (npm `ws`)
// speaks each format to a page that uses connectWebSocket() with a player
// and a mic node (fed a 440 Hz tone). Checks both directions and the
// control messages of each protocol.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { launch, openPage, run, serve, f32FromB64, rms, toneHz, check, why, ENGINE } from './harness.mjs';

let browser, srv, isoSrv, page, isoPage;
before(async () => {
  srv = await serve();
  isoSrv = await serve({ isolated: true });
  browser = await launch();
  page = await openPage(browser.context, srv.url);
  isoPage = await openPage(browser.context, isoSrv.url);
});
after(async () => {
  await browser?.close();
  await srv?.close();
  await isoSrv?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** μ-law encoding of one sample (G.711), for the server's test audio. */
function ulaw(x) {
  let s = Math.max(-32635, Math.min(32635, Math.round(x * 32768)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}
function ulawDecode(u) {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return ((u & 0x80) ? 0x84 - t : t - 0x84) / 32768;
}
const tone = (n, rate, f = 300, off = 0) => Float64Array.from({ length: n }, (_, i) => 0.4 * Math.sin(2 * Math.PI * f * (off + i) / rate));
/** Zero crossings per second of a signal (≈ 2 × its frequency for a tone). */
function zcr(x, rate) {
  let z = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) z++;
  return (z / x.length) * rate;
}

/** A WebSocket server for one session; `script(ws, rx)` drives it. */
async function wsServer(script) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const rx = { text: [], binary: [] };
  const done = new Promise((resolve) => {
    wss.once('connection', async (ws) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) rx.binary.push(new Uint8Array(data));
        else rx.text.push(data.toString());
      });
      try { await script(ws, rx); } finally { ws.close(); resolve(); }
    });
  });
  return { url: `ws://127.0.0.1:${wss.address().port}`, rx, done, close: () => new Promise((r) => wss.close(r)) };
}

/** Quiet 10 ms windows of the output from `fromMs` to `toMs`. */
function level(out, rate, fromMs, toMs) {
  return rms(out, Math.round((fromMs / 1000) * rate), Math.round((toMs / 1000) * rate));
}

async function twilioCase(page, transport) {
  const server = await wsServer(async (ws, rx) => {
    // Wait for the browser's connected + start (it plays the Twilio side).
    for (let i = 0; i < 500 && !rx.text.some((t) => JSON.parse(t).event === 'start'); i++) await sleep(10);
    const sid = JSON.parse(rx.text.find((t) => JSON.parse(t).event === 'start')).streamSid;
    const send = (o) => ws.send(JSON.stringify({ streamSid: sid, ...o }));
    // 1 s of tone, mark m1, 2 s more, mark m2: all at once, like a TTS server.
    for (let seg = 0; seg < 2; seg++) {
      const x = tone(8000 * (seg + 1), 8000, 300);
      for (let k = 0; k < x.length / 160; k++) {
        const b = Buffer.from(Array.from(x.subarray(k * 160, (k + 1) * 160), ulaw));
        send({ event: 'media', media: { payload: b.toString('base64') } });
      }
      send({ event: 'mark', mark: { name: `m${seg + 1}` } });
    }
    await sleep(1700);
    send({ event: 'clear' }); // barge-in, in the middle of the second segment
    await sleep(1000);
  });
  const res = await run(page, 'wireSession', { url: server.url, format: 'twilio', micCodec: 'PCMU/8000', twilio: { startStream: true, streamSid: 'MZtest' }, seconds: 5 });
  await server.done;
  await server.close();
  const out = f32FromB64(res.output);
  const msgs = server.rx.text.map((t) => JSON.parse(t));
  const media = msgs.filter((m) => m.event === 'media');
  const acks = msgs.filter((m) => m.event === 'mark').map((m) => m.mark.name);
  const pcm = Float64Array.from(media.flatMap((m) => Array.from(Buffer.from(m.media.payload, 'base64'), ulawDecode)));
  assert.equal(res.transport, transport);
  console.log(`# twilio via ${res.transport}: browser sent ${msgs.length} messages (${media.length} media, ${pcm.length} samples, rms ${rms(pcm).toFixed(3)}, ${zcr(pcm, 8000).toFixed(0)} zero crossings/s), marks acked [${acks}], events ${JSON.stringify(res.log.filter((e) => e.type.includes('mark') || e.type === 'clear'))}, player ${JSON.stringify({ underruns: res.playerStats.underruns, clears: res.playerStats.clears, droppedFrames: res.playerStats.droppedFrames })}`);
  assert.equal(msgs[0].event, 'connected');
  assert.equal(msgs[1].event, 'start');
  assert.equal(msgs[1].start.streamSid, 'MZtest');
  assert.ok(media.length >= 100, `${media.length} media messages from the mic`);
  assert.ok(media.every((m) => m.streamSid === 'MZtest' && m.media.track === 'inbound'));
  assert.ok(Math.abs(zcr(pcm, 8000) - 880) < 40, 'the mic tone arrives (440 Hz)');
  assert.deepEqual(acks, ['m1', 'm2'], 'm1 acknowledged when played, m2 when cleared');
  const m1 = res.log.find((e) => e.type === 'mark' && e.name === 'm1');
  const m2 = res.log.find((e) => e.type === 'mark' && e.name === 'm2');
  assert.ok(m1.played && !m1.cleared && m2.cleared, 'm1 played, m2 cleared');
  // m1 fires after its second of audio has played, well before the clear.
  const firstAudio = res.log.find((e) => e.type === 'player-started').t;
  assert.ok(res.log.filter((e) => e.type === 'player-mark').length === 2, 'the player reports both marks');
  assert.ok(m1.t >= firstAudio, `m1 after the first audio (${m1.t - firstAudio} ms of wall time)`);
  // On the audio clock (the events' context times), which a loaded
  // machine slows but does not skew: m1 fires once its second has played.
  const started = res.log.find((e) => e.type === 'player-started').timeMs;
  const m1Audio = res.log.find((e) => e.type === 'player-mark' && e.name === 'm1').timeMs;
  assert.ok(m1Audio - started >= 990 && m1Audio - started < 1100, `m1 after ${m1Audio - started} ms of playback`);
  // Audio plays until the clear, then stops. Positions come from the
  // recording itself: it starts during the page's set-up, whose length
  // (wasm compile, worklet start) varies with load, so neither clock's
  // origin is the recording's. The audio starts at the first non-silent
  // sample; the clear came 1.7 s after the server sent it, and the
  // recording stops once the server closes, 1 s after the clear.
  const onset = out.findIndex((v) => Math.abs(v) > 0.05);
  assert.ok(onset >= 0, 'audio played');
  const onsetMs = (onset / res.rate) * 1000;
  const endMs = (out.length / res.rate) * 1000;
  assert.ok(endMs - onsetMs >= 2300, `recorded ${endMs - onsetMs} ms from the first audio`);
  assert.ok(level(out, res.rate, onsetMs + 200, onsetMs + 1200) > 0.1, 'playing before the clear');
  assert.ok(level(out, res.rate, endMs - 600, endMs - 50) < 0.001, 'silent after the clear');
  return res;
}

for (const [name, iso] of [['MessagePort', false], ['SharedArrayBuffer rings: marks, clear in order with the audio', true]]) {
  test(`twilio: media/mark/clear in (stream mode), media/mark out, streamSid announced by the browser (${name})`, { timeout: 60000 }, async (t) => {
    const p = iso ? isoPage : page;
    // Without SharedArrayBuffer (WebKitGTK by default) the isolated page uses the port.
    const res = await twilioCase(p, p.sab ? 'sab' : 'port');
    if (iso) await check(t, 'through the SharedArrayBuffer ring', !p.sab && why.sharedArrayBuffer, () => assert.equal(res.transport, 'sab'));
  });
}

test('asterisk: MEDIA_START, re-framed binary media in, DTMF_END, MARK_MEDIA round trip, binary ulaw out', { timeout: 60000 }, async () => {
  const server = await wsServer(async (ws, rx) => {
    ws.send('MEDIA_START connection_id:c1 channel:WebSocket/c1/0x1 format:ulaw optimal_frame_size:160 ptime:20');
    const x = tone(16000, 8000, 300);
    const bytes = Buffer.from(Array.from(x, ulaw));
    // Odd-sized messages, paced at real time (Asterisk sends 20 ms frames).
    for (let i = 0, k = 0; i < bytes.length; i += 237, k++) {
      ws.send(bytes.subarray(i, i + 237));
      await sleep(237 / 8);
      if (k === 20) ws.send('DTMF_END digit:5');
      const mark = rx.text.find((t) => t.startsWith('MARK_MEDIA'));
      if (mark && !rx.marked) {
        rx.marked = true;
        ws.send(`MEDIA_MARK_PROCESSED ${mark.split(' ')[1] || ''}`);
      }
    }
    await sleep(500);
  });
  const res = await run(page, 'wireSession', { url: server.url, format: 'asterisk', micCodec: 'PCMU/8000', startThresholdMs: 80, marks: [{ name: 'tts-1', atMs: 300 }], commands: [{ name: 'ANSWER', atMs: 100 }], seconds: 4 });
  await server.done;
  await server.close();
  const out = f32FromB64(res.output);
  const pcm = Float64Array.from(server.rx.binary.flatMap((b) => Array.from(b, ulawDecode)));
  const ev = (type) => res.log.filter((e) => e.type === type);
  console.log(`# asterisk: server got ${server.rx.binary.length} binary messages (${pcm.length} samples, ${zcr(pcm, 8000).toFixed(0)} zero crossings/s) and text [${server.rx.text}]; browser events ${JSON.stringify(res.log.filter((e) => !e.type.startsWith('player')))}; player played ${res.playerStats.playedMs.toFixed(0)} ms`);
  assert.equal(ev('start')[0].format, 'pcmu');
  assert.deepEqual(ev('dtmf').map((e) => e.digit), ['5']);
  assert.deepEqual(server.rx.text.slice(0, 2), ['ANSWER', 'MARK_MEDIA tts-1']);
  assert.ok(ev('mark').some((e) => e.name === 'tts-1' && e.ack), 'MEDIA_MARK_PROCESSED reported as the ack of our mark');
  assert.ok(server.rx.binary.every((b) => b.length === 160), 'one 20 ms μ-law frame per message');
  assert.ok(pcm.length >= 8000 * 1.5, `${pcm.length} samples sent`);
  assert.ok(Math.abs(zcr(pcm, 8000) - 880) < 40, 'the mic tone arrives (440 Hz)');
  assert.ok(Math.abs(res.playerStats.playedMs - 2000) < 60, `all 2 s of media played (${res.playerStats.playedMs} ms)`);
  // The played tone: its frequency over the windows where it plays throughout
  // (a loaded machine may leave underrun gaps; the stats count them).
  const seg = out.subarray(Math.round(0.5 * res.rate), Math.round(1.5 * res.rate));
  const played = toneHz(seg, res.rate);
  assert.ok(played.windows >= 5 && Math.abs(played.hz - 300) < 10, `the 300 Hz tone is played: ${played.hz} Hz over ${played.windows} of ${played.of} windows (underruns ${res.playerStats.underruns})`);
});

test('l16-meta: JSON metadata then odd-sized LE PCM in, LE PCM out (isolated page: format change through the ring)', { timeout: 60000 }, async () => {
  const server = await wsServer(async (ws) => {
    ws.send(JSON.stringify({ callSid: 'abc', sampleRate: 16000, mixType: 'mono' }));
    const x = tone(16000 * 2, 16000, 300);
    const b = Buffer.alloc(x.length * 2);
    x.forEach((v, i) => b.writeInt16LE(Math.round(v * 32767), i * 2));
    for (let i = 0; i < b.length; i += 641) { ws.send(b.subarray(i, i + 641)); await sleep(641 / 32); }
    await sleep(400);
  });
  const res = await run(isoPage, 'wireSession', { url: server.url, format: 'l16-meta', micCodec: 'L16/16000/1', streamFormat: 'l16/8000/1', startThresholdMs: 80, seconds: 4 });
  await server.done;
  await server.close();
  const out = f32FromB64(res.output);
  const pcm = [];
  for (const b of server.rx.binary) for (let i = 0; i + 1 < b.length; i += 2) pcm.push(Buffer.from(b).readInt16LE(i) / 32768);
  const start = res.log.find((e) => e.type === 'start');
  const seg = out.subarray(Math.round(0.5 * res.rate), Math.round(1.5 * res.rate));
  const played = toneHz(seg, res.rate);
  console.log(`# l16-meta: output 0.5-1.5 s rms ${rms(seg).toFixed(3)}, ${played.hz} Hz over ${played.windows} of ${played.of} windows of 100 ms; start ${JSON.stringify(start)}; server got ${server.rx.binary.length} messages, ${pcm.length} samples LE, rms ${rms(pcm).toFixed(3)}, ${zcr(pcm, 16000).toFixed(0)} zero crossings/s; player played ${res.playerStats.playedMs.toFixed(0)} ms, underruns ${res.playerStats.underruns}, push errors ${res.playerStats.pushErrors}`);
  assert.equal(start.format, 'l16/16000/1');
  assert.ok(Math.abs(res.playerStats.playedMs - 2000) < 60, `2 s played (${res.playerStats.playedMs} ms)`);
  // As in the asterisk test: over the windows where the tone plays throughout.
  assert.ok(played.windows >= 5 && Math.abs(played.hz - 300) < 10, `the 300 Hz tone is played: ${played.hz} Hz over ${played.windows} of ${played.of} windows (underruns ${res.playerStats.underruns})`);
  assert.ok(pcm.length >= 16000 * 1.5);
  assert.ok(rms(pcm) > 0.2 && Math.abs(zcr(pcm, 16000) - 880) < 40, 'little-endian 440 Hz tone sent back');
});

test('raw RTP over WebSocket: packets both ways', { timeout: 60000 }, async () => {
  const server = await wsServer(async (ws) => {
    const x = tone(8000 * 2, 8000, 300);
    for (let k = 0; k < 100; k++) {
      const p = Buffer.alloc(172);
      p[0] = 0x80; p[1] = 0; p.writeUInt16BE(k, 2); p.writeUInt32BE(k * 160, 4); p.writeUInt32BE(0xabc, 8);
      for (let i = 0; i < 160; i++) p[12 + i] = ulaw(x[k * 160 + i]);
      ws.send(p);
      await sleep(20);
    }
    await sleep(400);
  });
  const res = await run(page, 'wireSession', { url: server.url, format: 'rtp', micCodec: 'PCMU/8000', seconds: 4 });
  await server.done;
  await server.close();
  const rtp = server.rx.binary.filter((b) => b[1] < 128 || b[1] >= 224 ? true : (b[1] & 0x7f) === 0);
  const seqs = rtp.map((b) => (b[2] << 8) | b[3]);
  console.log(`# rtp: server got ${server.rx.binary.length} packets, seq ${seqs[0]}..${seqs[seqs.length - 1]}; player received ${res.playerStats.packetsReceived}, lost ${res.playerStats.packetsLost}, concealed ${res.playerStats.concealedSamples}`);
  assert.equal(res.playerStats.packetsReceived, 100);
  assert.ok(rtp.length >= 80 && rtp.every((b) => b.length === 172 && (b[1] & 0x7f) === 0), 'PCMU RTP packets from the mic');
  assert.ok(seqs.every((s, i) => i === 0 || s === ((seqs[i - 1] + 1) & 0xffff)), 'consecutive sequence numbers');
});

test('RTCDataChannel (ordered: false, maxRetransmits: 0): Opus RTP from a mic node to a player', { timeout: 60000 }, async (t) => {
  // Debian 12's WebKitGTK is built without WebRTC.
  if (!(await page.evaluate(() => typeof RTCPeerConnection === 'function'))) {
    t.skip(`${ENGINE}: no RTCPeerConnection in this build`);
    return;
  }
  const res = await run(page, 'dataChannelLoop', { seconds: 3 });
  const out = f32FromB64(res.output);
  const seg = out.subarray(Math.round(1.5 * res.rate), Math.round(2.5 * res.rate));
  console.log(`# datachannel: ordered ${res.ordered}, maxRetransmits ${res.maxRetransmits}; ${res.sent} sent, ${res.received} received; player received ${res.stats.packetsReceived}, lost ${res.stats.packetsLost}; output rms ${rms(seg).toFixed(3)}, ${zcr(seg, res.rate).toFixed(0)} zero crossings/s`);
  assert.equal(res.ordered, false);
  assert.equal(res.maxRetransmits, 0);
  assert.ok(res.received >= 100 && res.stats.packetsReceived >= 100);
  assert.ok(rms(seg) > 0.1 && Math.abs(zcr(seg, res.rate) - 880) < 30, 'the 440 Hz tone arrives');
});
