// A player-only page (register(ctx, { build: 'player' })) bundled by Vite:
// it plays μ-law RTP and never needs the encoders, so it must fetch only the
// player-only wasm. The packets are μ-law coded here in a few lines of JS
// (G.711's reference coder), because the player build has no CodecEncoder.
import { register, connectCallback } from 'voxlet';

function linearToUlaw(x) {
  let s = Math.max(-32635, Math.min(32635, Math.round(x * 32767)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

async function main() {
  const ctx = new AudioContext();
  await ctx.resume();
  const vox = await register(ctx, { build: 'player' });
  const player = vox.createPlayer();
  player.connect(ctx.destination);
  await player.ready;
  const link = await connectCallback({ player, send: () => {} });
  for (let k = 0; k < 50; k++) {
    const pkt = new Uint8Array(12 + 160);
    pkt.set([0x80, 0, (k >> 8) & 255, k & 255, 0, 0, (k * 160) >> 8, (k * 160) & 255, 1, 2, 3, 4]);
    for (let i = 0; i < 160; i++) pkt[12 + i] = linearToUlaw(0.3 * Math.sin((2 * Math.PI * 440 * (k * 160 + i)) / 8000));
    setTimeout(() => link.receive(pkt.buffer), k * 20);
  }
  await new Promise((r) => setTimeout(r, 1500));
  await player.sync();
  const s = player.stats;
  let mic = null;
  try { vox.createMic(); } catch (e) { mic = String(e.message || e); }
  document.getElementById('status').textContent = `played ${s.packetsReceived} packets`;
  window.result = { ok: true, transport: player.transport, stats: s, rate: ctx.sampleRate, mic };
}

main().catch((e) => { window.result = { ok: false, error: String(e && e.stack || e) }; });
