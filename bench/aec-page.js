// Page side of bench/aec.mjs: the pcmu fixture played in real time by a
// player whose output is 'speakers' (the context's destination) or 'aec'
// (the echo-cancelled route), for one CPU-time round.
import { register } from '/pkg/src/index.js';
import { fixtureSchedule, deliver, audioSleep } from '/tests/browser/pages/lib.js';

/** Plays the fixture once through `output`; resolves when done, with the route used and the quanta rendered. */
export async function playRound({ output, seconds = 6 }) {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer({ output });
  const route = await player.outputReady;
  await player.ready;
  const { schedule } = await fixtureSchedule({ name: 'pcmu' });
  const a0 = ctx.currentTime;
  await deliver(player, schedule);
  await audioSleep(ctx, seconds - (ctx.currentTime - a0));
  const quanta = ((ctx.currentTime - a0) * ctx.sampleRate) / 128;
  const inbound = player.output ? await player.output.stats() : null;
  player.close();
  player.output?.close();
  await ctx.close();
  return { route, quanta, loopbackPackets: inbound ? inbound.packetsReceived : 0 };
}
