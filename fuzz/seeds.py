#!/usr/bin/env python3
"""Writes the committed seed corpus fuzz/corpus/<target>/ from the test
fixtures (tests/fixtures/*.rtpdump) and a few hand-made messages. Small on
purpose (well under 1 MB in all); re-run after changing a target's input
format:  python3 fuzz/seeds.py

Multi-message targets use the framing of fuzz/src/lib.rs: tag (u8), length
(u16 LE), body.
"""
import base64
import json
import os
import shutil
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def rtpdump(name):
    """(offset_ms, bytes) records of a fixture; RTCP included."""
    data = open(os.path.join(FIX, name), "rb").read()
    nl = data.index(b"\n") + 1
    pos = nl + 16
    recs = []
    while pos + 8 <= len(data):
        length, plen, off = struct.unpack(">HHI", data[pos:pos + 8])
        recs.append((off, data[pos + 8:pos + length], plen))
        pos += length
    return data[:nl + 16], recs


def rtp_recs(name):
    return [(o, d) for o, d, plen in rtpdump(name)[1] if plen and not 192 <= d[1] <= 223]


def rtcp_recs(name):
    return [(o, d) for o, d, plen in rtpdump(name)[1] if not plen or 192 <= d[1] <= 223]


def payload(pkt):
    cc = pkt[0] & 15
    pos = 12 + 4 * cc
    if pkt[0] & 0x10:
        words = struct.unpack(">H", pkt[pos + 2:pos + 4])[0]
        pos += 4 + 4 * words
    end = len(pkt) - (pkt[-1] if pkt[0] & 0x20 else 0)
    return pkt[pos:end]


def msg(tag, body):
    body = body[:65535]
    return bytes([tag]) + struct.pack("<H", len(body)) + body


def rtp(pt, seq, ts, ssrc, pl, marker=False, csrcs=(), ext=None, pad=0):
    b0 = 0x80 | len(csrcs) | (0x10 if ext else 0) | (0x20 if pad else 0)
    h = struct.pack(">BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
    h += b"".join(struct.pack(">I", c) for c in csrcs)
    if ext:
        profile, data = ext
        h += struct.pack(">HH", profile, len(data) // 4) + data
    return h + pl + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    codecs = {"pcmu": "pcmu.rtpdump", "pcma": "pcma.rtpdump", "g722": "g722.rtpdump",
              "l16": "l16.rtpdump", "opus": "opus.rtpdump", "opus_fec": "opus_fec.rtpdump"}
    recs = {k: rtp_recs(v) for k, v in codecs.items()}

    # rtp_packet / wire_raw: real packets plus the header features.
    for k, r in recs.items():
        for i in (0, 1, len(r) // 2):
            write("rtp_packet", f"{k}_{i}", r[i][1][:400])
    one_byte = bytes([0x10, 0xAA, 0x21, 0xBB, 0xCC, 0, 0, 0])  # id 1 len 1, id 2 len 2
    two_byte = bytes([1, 2, 0xAA, 0xBB, 2, 0, 0, 0])
    write("rtp_packet", "ext_one_byte", rtp(111, 1, 960, 7, b"\xf8\xff\xfe", ext=(0xBEDE, one_byte)))
    write("rtp_packet", "ext_two_byte", rtp(111, 2, 960, 7, b"\xf8\xff\xfe", ext=(0x1000, two_byte)))
    write("rtp_packet", "csrc_pad", rtp(0, 3, 160, 7, b"\xff" * 20, True, (1, 2, 3), None, 4))
    raw = b"".join(msg(0, r[1]) for r in recs["pcmu"][:3])
    raw += b"".join(msg(0, d) for _, d in rtcp_recs("opus.rtpdump")[:2])
    raw += msg(1, b"hello")
    write("wire_raw", "pcmu_rtcp", b"\xff" + raw)
    write("wire_raw", "opus", b"\xff" + b"".join(msg(0, r[1]) for r in recs["opus"][:4]))

    # rtcp_compound: captured RTCP plus hand-built SR+SDES, RR, BYE.
    for k in ("opus.rtpdump", "pcmu.rtpdump", "g722.rtpdump"):
        for i, (_, d) in enumerate(rtcp_recs(k)[:2]):
            write("rtcp_compound", f"{k.split('.')[0]}_{i}", d)
    block = struct.pack(">IIIIII", 7, 0x05000010, 0x10020, 33, 0x12345678, 0x10000)
    sr = struct.pack(">BBHI", 0x81, 200, 12, 9) + struct.pack(">QIII", 0xE5F1_2345_6789_ABCD, 160, 10, 1600) + block
    cname = b"voxlet@host"
    sdes_body = struct.pack(">I", 9) + bytes([1, len(cname)]) + cname + b"\0"
    sdes_body += b"\0" * (-len(sdes_body) % 4)
    sdes = struct.pack(">BBHI", 0x81, 202, len(sdes_body) // 4, 0)[:4] + sdes_body
    rr = struct.pack(">BBHI", 0x81, 201, 7, 9) + block
    bye = struct.pack(">BBHII", 0x82, 203, 2, 9, 10)
    write("rtcp_compound", "sr_sdes", sr + sdes)
    write("rtcp_compound", "rr_bye", rr + bye)
    write("rtcp_compound", "app", struct.pack(">BBHI4s", 0x80, 204, 2, 9, b"name"))

    # rtpdump: the first records of each capture.
    for k, v in codecs.items():
        head, rs = rtpdump(v)
        body = b"".join(struct.pack(">HHI", len(d) + 8, plen, o) + d for o, d, plen in rs[:6])
        write("rtpdump", k, head + body)

    # Decoders: payload sequences, with concealment / FEC / short-buffer ops.
    def payload_seq(k, n=8, ops=b""):
        return b"".join(msg(0, payload(d)) for _, d in recs[k][:n]) + ops
    extra = msg(200, b"\x02") + msg(220, b"\x02" + payload(recs["opus_fec"][5][1])) + msg(240, b"\x10") + msg(255, b"")
    write("decode_pcmu", "speech", payload_seq("pcmu", 4, msg(200, b"\x02") + msg(240, b"\x10")))
    write("decode_pcma", "speech", payload_seq("pcma", 4, msg(200, b"\x02") + msg(240, b"\x10")))
    write("decode_g722", "speech", payload_seq("g722", 4, msg(200, b"\x02") + msg(240, b"\x10")))
    l16clock = 16000  # tests/fixtures/gen.sh: L16/16000 mono
    write("decode_l16", "speech_16k", b"\x01\x01" + payload_seq("l16", 3, msg(240, b"\x10")))
    write("decode_l16", "stereo_44k", b"\x02\x02" + payload_seq("l16", 2))
    write("decode_opus", "mono", b"\x00" + payload_seq("opus", 8, extra))
    write("decode_opus", "stereo_fec", b"\x01" + payload_seq("opus_fec", 8, extra))

    # telephone_event
    write("telephone_event", "digit5", bytes([5, 0x0A, 0x01, 0x40]))
    write("telephone_event", "end_hash", bytes([11, 0x8A, 0x03, 0x20]))
    write("telephone_event", "two_blocks", bytes([1, 0x0A, 0, 160, 2, 0x8A, 1, 64]))

    # wire_twilio: a whole call.
    sid = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    start = {"event": "start", "sequenceNumber": "1", "streamSid": sid,
             "start": {"accountSid": "AC1", "streamSid": sid, "callSid": "CA1", "tracks": ["inbound"],
                       "customParameters": {"a": "b"},
                       "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    t = [json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}), json.dumps(start)]
    for i, (_, d) in enumerate(recs["pcmu"][:4]):
        t.append(json.dumps({"event": "media", "sequenceNumber": str(i + 2), "streamSid": sid,
                             "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(20 * i),
                                       "payload": base64.b64encode(payload(d)).decode()}}))
    t.append(json.dumps({"event": "dtmf", "streamSid": sid, "dtmf": {"track": "inbound_track", "digit": "1"}}))
    t.append(json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "m1"}}))
    t.append(json.dumps({"event": "stop", "streamSid": sid, "stop": {"callSid": "CA1"}}))
    write("wire_twilio", "call", b"\x00" + b"".join(msg(0, s.encode()) for s in t))
    start["start"]["mediaFormat"] = {"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}
    l16 = [json.dumps(start)] + [json.dumps({"event": "media", "media": {"payload": base64.b64encode(payload(d)).decode()}})
                                 for _, d in recs["l16"][:2]]
    write("wire_twilio", "l16", b"\x00" + b"".join(msg(0, s.encode()) for s in l16))

    # wire_asterisk: plain-text and JSON control, media frames.
    ms = "MEDIA_START connection_id:c1 channel:WebSocket/c1 channel_id:pbx-1.1 format:ulaw optimal_frame_size:160 ptime:20"
    a = msg(0, ms.encode()) + b"".join(msg(1, payload(d)[:100]) for _, d in recs["pcmu"][:4])
    a += msg(0, b"DTMF_END digit:5 channel_id:pbx-1.1") + msg(0, b"MEDIA_XOFF") + msg(0, b"MEDIA_XON")
    write("wire_asterisk", "plain_ulaw", b"\xff\x00" + a)
    js = json.dumps({"event": "MEDIA_START", "connection_id": "c", "channel": "WebSocket/c", "channel_id": "1.1",
                     "format": "slin16", "optimal_frame_size": 640, "ptime": 20,
                     "channel_variables": {"X": "1"}})
    a = msg(2, js.encode()) + b"".join(msg(3, payload(d)) for _, d in recs["l16"][:2])
    a += msg(2, b'{"event":"MEDIA_MARK_PROCESSED","channel_id":"1.1","correlation_id":"m-1"}')
    a += msg(2, b'{"event":"STATUS","channel_id":"1.1","queue_length":2,"xon_level":1,"xoff_level":9,"queue_full":false,"bulk_media":false,"media_paused":false}')
    write("wire_asterisk", "json_slin16", b"\xff\x00" + a)
    write("wire_asterisk", "preset_opus", b"\x03\x00\x00\x00" + b"".join(msg(1, payload(d)) for _, d in recs["opus"][:3]))

    # wire_l16meta
    meta = json.dumps({"callSid": "CA1", "sampleRate": 16000, "mixType": "mono"})
    l = msg(0, meta.encode()) + b"".join(msg(1, payload(d)[:333]) for _, d in recs["l16"][:3]) + msg(0, b'{"type":"killAudio"}')
    write("wire_l16meta", "jambonz", b"\xff\x00" + l)
    write("wire_l16meta", "stereo", b"\xff\x00" + msg(0, b'{"sampleRate":8000,"channels":2}') + msg(1, bytes(range(256))) + msg(3, b"\x01\x02\x03"))

    # receiver_sequence: captures replayed with their arrival times and
    # 128-frame renders at 48 kHz (default config: flags 0, rate sel 3).
    def replay(k, pt_builder=False, n=60):
        ops, t_render = b"", 0.0
        rs = recs[k][:n]
        base = rs[0][0]
        for off, d in rs:
            at = off - base
            while t_render + 128 / 48 <= at:
                ops += msg(160, struct.pack("<HB", 128, 0))
                t_render += 128 / 48
            # raw push: arrival = t + x/8 - 200 => x = (at - t + 200) * 8
            x = max(0, min(65535, int((at - t_render + 200) * 8)))
            ops += msg(0, struct.pack("<H", x) + d)
        ops += msg(160, struct.pack("<HB", 2048, 0)) * 4 + msg(230, b"") + msg(240, b"")
        return ops
    cfg = bytes([0x00, 0x03, 0x00]) + struct.pack("<HI", 0, 0)  # flags, rate, t0=0, seq, ts
    write("receiver_sequence", "opus", cfg + replay("opus"))
    write("receiver_sequence", "pcmu", cfg + replay("pcmu"))
    write("receiver_sequence", "g722", cfg + replay("g722", n=40))
    write("receiver_sequence", "opus_fec", cfg + replay("opus_fec"))
    # Built packets with a lost one, reordering, DTMF and an SR.
    ops = b""
    for i in range(30):
        if i == 7:
            continue
        pl = payload(recs["pcmu"][i][1])
        ops += msg(80, bytes([0, 1, 2]) + struct.pack("<H", 1600 + 8 * (i % 3)) + pl)  # pt 0, seq+1, ts+160
        ops += msg(160, struct.pack("<HB", 160, 0))
    ops += msg(86, bytes([6, 1, 2]) + struct.pack("<H", 1600) + bytes([5, 0x0A, 0, 160]))  # pt 101 DTMF
    ops += msg(220, struct.pack("<Q", 0xE5F1_2345_6789_ABCD)) + msg(255, struct.pack("<I", 16000)) + msg(160, struct.pack("<HB", 2048, 0))
    write("receiver_sequence", "built_pcmu_loss_dtmf", cfg + ops)

    # sender_config: default-ish configs, one push of speech, polls.
    speech = open(os.path.join(FIX, "speech_8k.s16le"), "rb").read()[8000:8000 + 1600]
    def sender(kind, clock_sel, extra=b""):
        c = bytes([kind, clock_sel << 1, 0]) + b"\x00"  # kind, sel, pt, f = 0
        c += b"\x01" + struct.pack("<I", 0x50AC) + b"\x00\x00" + b"\x01\x65" + struct.pack("<Q", 1)
        ops = msg(0, struct.pack("<HB", 800, 3) + speech) + msg(176, b"") + msg(128, b"\x05\x00\x01\x0a")
        ops += msg(255, b"\x01\x64\x00") + msg(0, struct.pack("<HB", 800, 3) + speech) + msg(160, b"") + msg(176, b"") + msg(240, struct.pack("<Q", 1_700_000_000_000))
        return c + extra + ops
    write("sender_config", "pcmu", sender(0, 0))
    write("sender_config", "g722", sender(2, 0))
    write("sender_config", "opus", sender(4, 1))
    write("sender_config", "l16", sender(3, 2))

    # stream_player: each input format with pushes, a mark, renders, clear.
    def player(fmt_byte, chunks):
        ops = b"".join(msg(0, c) + msg(156, struct.pack("<HB", 128, 0)) for c in chunks)
        ops += msg(120, struct.pack("<I", 7)) + msg(156, struct.pack("<HB", 4096, 0)) + msg(140, b"") + msg(156, struct.pack("<HB", 128, 0))
        return bytes([fmt_byte, 0x00]) + ops
    write("stream_player", "pcmu", player(0, [payload(d) for _, d in recs["pcmu"][:3]]))
    write("stream_player", "g722", player(2, [payload(d) for _, d in recs["g722"][:3]]))
    write("stream_player", "l16be_16k", player(4 | (1 << 3), [payload(d) for _, d in recs["l16"][:2]]))
    write("stream_player", "opus", player(5, [payload(d) for _, d in recs["opus"][:4]]))

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    n = sum(len(fs) for _, _, fs in os.walk(OUT))
    print(f"{n} seed files, {total} bytes in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
