// The echo-cancelled output route.
//
// Chrome's acoustic echo canceller takes as its far-end reference only the
// audio that WebRTC itself plays out (remote tracks of an RTCPeerConnection
// played by a media element); audio played through Web Audio to
// `context.destination` is not part of it (Chromium issue 687574). A
// softphone or voice agent played through an AudioWorklet on speakers then
// hears itself through the microphone.
//
// The known remedy: send the Web Audio output through a local
// RTCPeerConnection loopback (two peers in this page, no network beyond
// loopback candidates) and play the received track in an <audio> element.
// The echo canceller then sees it as far-end audio. The cost: an Opus
// encode and decode on WebRTC's threads and the loopback's jitter buffer,
// measured in pkg/README.md ("Echo-cancelled output"). Headphone users do
// not need it.
//
// Nothing here touches the samples (no DSP in JavaScript): the route only
// connects nodes and peers.

/** Opus on the loopback: transparent rather than economical (it never leaves the machine). */
function loopbackOpus(sdp, bitrate) {
  return sdp.replace(/a=fmtp:(\d+) (.*useinbandfec=1.*)/, (line, pt, params) => {
    const kept = params.split(';').filter((p) => !/^(stereo|sprop-stereo|maxaveragebitrate|usedtx|useinbandfec|minptime)=/.test(p));
    return `a=fmtp:${pt} ${[...kept, 'minptime=10', 'useinbandfec=0', 'usedtx=0', 'stereo=1', 'sprop-stereo=1', `maxaveragebitrate=${bitrate}`].join(';')}`;
  });
}

/**
 * Routes audio through a local WebRTC loopback into an <audio> element, so
 * the browser's echo canceller cancels it. Connect nodes to `input`.
 * Create with `AecOutput.create()` (or `vox.aecOutput()`, one per context).
 */
export class AecOutput {
  /**
   * Sets the loopback up on `context`. Options: `sinkId` (output device,
   * where the engine has `HTMLMediaElement.setSinkId`), `element` (an
   * <audio> element to play into; default a new detached one), `bitrate`
   * (Opus on the loopback, bit/s, default 128000), `channels` (1 or 2,
   * default 2).
   */
  static async create(context, options = {}) {
    if (typeof RTCPeerConnection !== 'function') {
      throw new DOMException('voxlet: output "aec" needs RTCPeerConnection', 'NotSupportedError');
    }
    const out = new AecOutput(context, options);
    try {
      await out._connect(options.bitrate ?? 128000);
      if (options.sinkId !== undefined) await out.setSinkId(options.sinkId);
    } catch (e) {
      out.close();
      throw e;
    }
    return out;
  }

  constructor(context, options) {
    this.context = context;
    /** The node to connect audio into. */
    this.input = new MediaStreamAudioDestinationNode(context, { channelCount: options.channels === 1 ? 1 : 2 });
    /** The <audio> element that plays the route. */
    this.element = options.element || new Audio();
    this.sender = new RTCPeerConnection();
    this.receiver = new RTCPeerConnection();
    this.closed = false;
  }

  async _connect(bitrate) {
    const { sender: a, receiver: b } = this;
    a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); };
    b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); };
    const stream = this.input.stream;
    for (const t of stream.getAudioTracks()) a.addTrack(t, stream);
    const track = new Promise((resolve) => {
      b.ontrack = (e) => resolve(e);
    });
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription({ type: 'offer', sdp: loopbackOpus(offer.sdp, bitrate) });
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription({ type: 'answer', sdp: loopbackOpus(answer.sdp, bitrate) });
    const ev = await track;
    // As little buffering as the receiving engine allows (the loopback has
    // no jitter to absorb).
    if ('jitterBufferTarget' in ev.receiver) ev.receiver.jitterBufferTarget = 0;
    else if ('playoutDelayHint' in ev.receiver) ev.receiver.playoutDelayHint = 0;
    this.rtpReceiver = ev.receiver;
    /** The loopback's received stream (what the element plays). */
    this.stream = ev.streams[0] || new MediaStream([ev.track]);
    this.element.srcObject = this.stream;
    this.element.autoplay = true;
    // Autoplay rules: the AudioContext was resumed by a gesture, which
    // normally lets the element play too; if not, it starts on the next.
    await this.element.play().catch(() => {});
  }

  /** Output device (`HTMLMediaElement.setSinkId`); rejects NotSupportedError where the engine lacks it. */
  async setSinkId(id) {
    if (typeof this.element.setSinkId !== 'function') {
      throw new DOMException('voxlet: this engine cannot choose the output device of an <audio> element (no setSinkId)', 'NotSupportedError');
    }
    await this.element.setSinkId(id);
  }

  /**
   * The loopback receiver's 'inbound-rtp' statistics (packetsReceived,
   * jitterBufferDelay, totalSamplesReceived, …), or null before any.
   */
  async stats() {
    if (!this.rtpReceiver) return null;
    const report = await this.rtpReceiver.getStats();
    for (const s of report.values()) if (s.type === 'inbound-rtp') return s;
    return null;
  }

  /** Stops the element and both peers. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.element.pause();
    this.element.srcObject = null;
    this.sender.close();
    this.receiver.close();
    for (const t of this.input.stream.getTracks()) t.stop();
  }
}
