#!/usr/bin/python3
"""Renders an arrivals file (examples/impair.rs --arrivals) with GStreamer's
rtpjitterbuffer, offline and deterministically. Run with the system python3
(python3-gst-1.0), not the PESQ venv:

    /usr/bin/python3 bench/pesq/gst_peer.py ARRIVALS opus|g722 OUT.wav [--latency 120]

Pipeline: a bare source pad → `rtpjitterbuffer latency=L mode=slave
do-lost=true` → tee → (a) `rtpopusdepay ! opusdec plc=true
use-inband-fec=true` (G.722: `rtpg722depay ! avdec_g722`) `! audioconvert !
audioresample ! audio/x-raw,S16LE,16000,mono ! appsink`, (b) an appsink
that sees the RTP packets the jitter buffer lets out. Every element runs
on a GstCheck TestClock (base time 0). Each packet is pushed with
DTS = PTS = its arrival time, after the clock was moved to it; clock waits
(the jitter buffer's timers) that fall before the next arrival are released
in time order. After each step the script waits until every GStreamer
thread sleeps, so what comes out of the pipeline comes out at the clock
time of that step, and three runs give the same bytes.

The jitter buffer does no playout; an audio sink would. It is emulated: a
buffer plays at its PTS + latency + 20 ms (GstBaseSink's processing
deadline, part of the pipeline latency), placed like GstAudioBaseSink
places it (GstAudioStreamAlign with the sink's defaults: contiguous with
the previous buffer unless 40 ms or more off for a second, resync on
DISCONT), and samples that reach the sink after their play time are
dropped. Prints one JSON object: mean delay from
a packet's arrival to its playout (weighted by duration, like WebRTC's
jitterBufferDelay), the share of received packets not played (late), and
the share of the media not played from its own packet (concealed or
silent).
"""
import argparse
import json
import os
import struct
import sys
import threading
import time
import wave

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstAudio", "1.0")
gi.require_version("GstCheck", "1.0")
from gi.repository import Gst, GstApp, GstAudio, GstCheck  # noqa: E402,F401

OUT_RATE = 16000
DEADLINE_NS = 20 * Gst.MSECOND  # GstBaseSink processing-deadline default
CODECS = {
    "opus": ("OPUS", 48000, "rtpopusdepay ! opusdec plc=true use-inband-fec=true"),
    "g722": ("G722", 8000, "rtpg722depay ! avdec_g722"),
}


def read_arrivals(path):
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"VXARRIV1":
        sys.exit(f"{path}: not an arrivals file")
    clock_rate, sent, duration_ms, end_ms = struct.unpack_from("<IIdd", b, 8)
    at, out = 32, []
    while at < len(b):
        t, n = struct.unpack_from("<dI", b, at)
        out.append((t, b[at + 12:at + 12 + n]))
        at += 12 + n
    return clock_rate, sent, duration_ms, end_ms, out


def duration_ms_of(codec, pkt):
    """Media duration of an RTP packet from its payload: G.722 is 8 bytes a
    millisecond; Opus says it in its TOC byte (RFC 6716 section 3.1)."""
    cc = pkt[0] & 0x0F
    at = 12 + 4 * cc
    if pkt[0] & 0x10:
        at += 4 + 4 * struct.unpack(">H", pkt[at + 2:at + 4])[0]
    end = len(pkt) - (pkt[-1] if pkt[0] & 0x20 else 0)
    payload = pkt[at:end]
    if codec == "g722":
        return len(payload) / 8
    toc = payload[0]
    config, c = toc >> 3, toc & 3
    if config < 12:
        frame = (10, 20, 40, 60)[config % 4]
    elif config < 16:
        frame = (10, 20)[config % 2]
    else:
        frame = (2.5, 5, 10, 20)[config % 4]
    frames = 1 if c == 0 else 2 if c in (1, 2) else payload[1] & 0x3F
    return frame * frames


def settle():
    """Waits until every thread but this one sleeps (blocked on a lock, a
    condition or a clock wait): nothing moves until the clock or a new
    packet wakes it. A thread woken by a signal is runnable at once, so
    two consecutive all-asleep readings mean quiescent."""
    me = str(threading.get_native_id())
    calm = 0
    while calm < 2:
        busy = False
        for tid in os.listdir("/proc/self/task"):
            if tid == me:
                continue
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in ("S", "D", "I"):
                busy = True
                break
        calm = 0 if busy else calm + 1
        if calm < 2:
            time.sleep(0.00005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arrivals")
    ap.add_argument("codec", choices=sorted(CODECS))
    ap.add_argument("out")
    ap.add_argument("--latency", type=int, default=120, help="rtpjitterbuffer latency, ms")
    args = ap.parse_args()
    clock_rate, sent, duration_ms, end_ms, arrivals = read_arrivals(args.arrivals)
    name, rate, decode = CODECS[args.codec]
    assert rate == clock_rate, (rate, clock_rate)

    Gst.init(None)
    pipe = Gst.parse_launch(
        f"rtpjitterbuffer name=jb latency={args.latency} mode=slave do-lost=true ! tee name=t "
        f"t. ! {decode} ! audioconvert ! audioresample ! "
        f"audio/x-raw,format=S16LE,rate={OUT_RATE},channels=1 ! "
        "appsink name=audio sync=false async=false "
        "t. ! appsink name=rtp sync=false async=false")
    clock = GstCheck.TestClock.new()
    pipe.use_clock(clock)
    pipe.set_start_time(Gst.CLOCK_TIME_NONE)
    pipe.set_base_time(0)
    audio, rtp, jb = pipe.get_by_name("audio"), pipe.get_by_name("rtp"), pipe.get_by_name("jb")
    src = Gst.Pad.new("src", Gst.PadDirection.SRC)
    assert src.link(jb.get_static_pad("sink")) == Gst.PadLinkReturn.OK
    pipe.set_state(Gst.State.PLAYING)
    src.set_active(True)
    src.push_event(Gst.Event.new_stream_start("voxlet-arrivals"))
    src.push_event(Gst.Event.new_caps(Gst.Caps.from_string(
        f"application/x-rtp,media=audio,clock-rate={rate},encoding-name={name},payload=96")))
    seg = Gst.Segment()
    seg.init(Gst.Format.TIME)
    src.push_event(Gst.Event.new_segment(seg))

    latency_ns = args.latency * Gst.MSECOND
    timeline = [0] * int((end_ms / 1000 + 2) * OUT_RATE)
    first_arrival = {}  # seq -> arrival ms (first copy)
    dur = {}  # seq -> media duration, ms
    played = {}  # seq -> play time, ms
    dropped_samples = 0

    # The audio sink's placement of buffers (GstAudioBaseSink defaults):
    # contiguous with the previous buffer unless its timestamp is 40 ms or
    # more off for 1 s, or it is flagged DISCONT/RESYNC (then resync).
    align = GstAudio.AudioStreamAlign.new(OUT_RATE, 40 * Gst.MSECOND, Gst.SECOND)
    shift = [0]  # aligned - PTS of the latest audio buffer, ns

    def drain(now_ns):
        """Collects what reached the two appsinks during this step (at clock
        time now_ns) and plays it through the emulated sink."""
        nonlocal dropped_samples
        packets = []
        while (s := rtp.try_pull_sample(0)) is not None:
            b = s.get_buffer()
            packets.append((struct.unpack(">H", b.extract_dup(2, 2))[0], b.pts))
        shifts = []
        while (s := audio.try_pull_sample(0)) is not None:
            b = s.get_buffer()
            pcm = b.extract_dup(0, b.get_size())
            x = struct.unpack(f"<{len(pcm) // 2}h", pcm)
            discont = b.has_flags(Gst.BufferFlags.DISCONT) or b.has_flags(Gst.BufferFlags.RESYNC)
            ts = align.process(discont, b.pts, len(x))[1]
            shift[0] = ts - b.pts
            shifts.append((b.pts, shift[0]))
            play0 = ts + latency_ns + DEADLINE_NS
            k0 = play0 * OUT_RATE // Gst.SECOND
            for j, v in enumerate(x):
                if now_ns > play0 + j * Gst.SECOND // OUT_RATE:
                    dropped_samples += 1  # the sink has played past it
                elif k0 + j < len(timeline):
                    timeline[k0 + j] = v
        for seq, pts in packets:
            # The sink's shift of the audio this packet decoded to.
            d = min(shifts, key=lambda a: abs(a[0] - pts))[1] if shifts else shift[0]
            play = pts + d + latency_ns + DEADLINE_NS
            if now_ns <= play:
                played.setdefault(seq, play / 1e6)

    def release_until(t_ns):
        """Releases the clock waits due at or before t_ns, in time order."""
        while True:
            settle()
            due = clock.get_next_entry_time()
            if due == Gst.CLOCK_TIME_NONE or due > t_ns:
                return
            if due > clock.get_time():
                clock.set_time(due)
            clock.process_next_clock_id()
            settle()
            drain(clock.get_time())

    for t_ms, pkt in arrivals:
        t_ns = int(round(t_ms * 1e6))
        release_until(t_ns)
        if t_ns > clock.get_time():
            clock.set_time(t_ns)
        seq = struct.unpack(">H", pkt[2:4])[0]
        dur.setdefault(seq, duration_ms_of(args.codec, pkt))
        first_arrival.setdefault(seq, t_ms)
        buf = Gst.Buffer.new_wrapped(pkt)
        buf.pts = buf.dts = t_ns
        src.push(buf)
        settle()
        drain(clock.get_time())
    end_ns = int(end_ms * 1e6)
    release_until(end_ns)
    stats = jb.get_property("stats")
    pipe.set_state(Gst.State.NULL)

    with wave.open(args.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(OUT_RATE)
        n = int(end_ms * OUT_RATE / 1000)
        w.writeframes(struct.pack(f"<{n}h", *timeline[:n]))

    weight = sum(dur[s] for s in played)
    delay = sum((played[s] - first_arrival[s]) * dur[s] for s in played) / max(weight, 1e-9)
    print(json.dumps({
        "delay_ms": round(delay, 1),
        "late": round(1 - len(played) / max(len(first_arrival), 1), 5),
        "concealed": round(1 - weight / duration_ms, 5),
        "packets": sent,
        "received": len(first_arrival),
        "dropped_samples": dropped_samples,
        "jb_lost": stats.get_uint64("num-lost")[1],
        "jb_late": stats.get_uint64("num-late")[1],
        "jb_pushed": stats.get_uint64("num-pushed")[1],
    }))


if __name__ == "__main__":
    main()
