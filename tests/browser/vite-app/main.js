// A minimal app using the packed voxlet package through Vite: register the
// worklet and wasm, play a tone sent as RTP (built with the package's own
// encoder on the main thread), and report the player's stats.
import { register, connectCallback } from 'voxlet';

async function main() {
  const ctx = new AudioContext();
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer();
  player.connect(ctx.destination);
  await player.ready;
  const link = await connectCallback({ player, send: () => {} });
  const { CodecEncoder } = await vox.wasm();
  const enc = new CodecEncoder('PCMU/8000');
  for (let k = 0; k < 50; k++) {
    const pcm = new Float32Array(160).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * (k * 160 + i)) / 8000));
    const payload = enc.encode(pcm);
    const pkt = new Uint8Array(12 + payload.length);
    pkt.set([0x80, 0, (k >> 8) & 255, k & 255, 0, 0, (k * 160) >> 8, (k * 160) & 255, 1, 2, 3, 4]);
    pkt.set(payload, 12);
    setTimeout(() => link.receive(pkt.buffer), k * 20);
  }
  await new Promise((r) => setTimeout(r, 1500));
  await player.sync();
  const s = player.stats;
  document.getElementById('status').textContent = `played ${s.packetsReceived} packets`;
  window.result = { ok: true, transport: player.transport, stats: s, rate: ctx.sampleRate };
}

main().catch((e) => { window.result = { ok: false, error: String(e && e.stack || e) }; });
