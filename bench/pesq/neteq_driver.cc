// Renders an arrivals file (examples/impair.rs --arrivals) with the real
// libwebrtc NetEq (Debian libtgowt-dev: Telegram's libwebrtc snapshot of
// 2023-01, about M110), offline on a simulated clock: each packet is
// inserted at its arrival time, 10 ms of audio are pulled every 10 ms.
//
//   neteq_driver ARRIVALS opus|g722 OUT.wav
//
// Writes OUT.wav (mono s16, 16 kHz: NetEq's output resampled with
// libwebrtc's PushResampler when the decoder runs at another rate) and
// prints one JSON object: the mean arrival-to-playout delay
// (jitterBufferDelay / jitterBufferEmittedCount), the share of concealed
// output, and a few counters. Like voxlet's, the statistics are taken at the
// last 10 ms that carried decoded audio. Built by bench/pesq/run.py.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "api/audio/audio_frame.h"
#include "api/audio_codecs/audio_decoder_factory_template.h"
#include "api/audio_codecs/g722/audio_decoder_g722.h"
#include "api/audio_codecs/opus/audio_decoder_opus.h"
#include "api/neteq/neteq.h"
#include "api/rtp_headers.h"
#include "common_audio/resampler/include/push_resampler.h"
#include "modules/audio_coding/neteq/default_neteq_factory.h"
#include "system_wrappers/include/clock.h"

namespace {

constexpr int kOutRate = 16000;
constexpr int kPayloadType = 96;

struct Arrival {
  double at_ms;
  std::vector<uint8_t> bytes;
};

template <typename T>
T take(const std::vector<char>& b, size_t& at) {
  T v;
  if (at + sizeof v > b.size()) throw std::runtime_error("truncated arrivals");
  std::memcpy(&v, b.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

// Parses a fixed RTP header (+ CSRCs, header extension, padding).
bool parse_rtp(const std::vector<uint8_t>& p, webrtc::RTPHeader* h, size_t* off, size_t* len) {
  if (p.size() < 12 || (p[0] >> 6) != 2) return false;
  const size_t cc = p[0] & 0x0f;
  size_t o = 12 + 4 * cc;
  if (p[0] & 0x10) {
    if (p.size() < o + 4) return false;
    o += 4 + 4 * ((p[o + 2] << 8) | p[o + 3]);
  }
  size_t pad = (p[0] & 0x20) ? p.back() : 0;
  if (p.size() < o + pad) return false;
  h->markerBit = p[1] & 0x80;
  h->payloadType = p[1] & 0x7f;
  h->sequenceNumber = (p[2] << 8) | p[3];
  h->timestamp = (uint32_t(p[4]) << 24) | (p[5] << 16) | (p[6] << 8) | p[7];
  h->ssrc = (uint32_t(p[8]) << 24) | (p[9] << 16) | (p[10] << 8) | p[11];
  h->numCSRCs = cc;
  h->headerLength = o;
  h->paddingLength = pad;
  *off = o;
  *len = p.size() - o - pad;
  return true;
}

void write_wav(const std::string& path, const std::vector<int16_t>& x) {
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t data = 2 * x.size();
  f.write("RIFF", 4), u32(36 + data), f.write("WAVEfmt ", 8), u32(16);
  u16(1), u16(1), u32(kOutRate), u32(kOutRate * 2), u16(2), u16(16);
  f.write("data", 4), u32(data);
  f.write(reinterpret_cast<const char*>(x.data()), data);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s ARRIVALS opus|g722 OUT.wav\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 32 || std::memcmp(b.data(), "VXARRIV1", 8) != 0) {
    std::fprintf(stderr, "%s: not an arrivals file\n", argv[1]);
    return 1;
  }
  size_t at = 8;
  take<uint32_t>(b, at);  // RTP clock rate (the codec says it)
  const uint32_t sent = take<uint32_t>(b, at);
  take<double>(b, at);  // media duration
  const double end_ms = take<double>(b, at);
  std::vector<Arrival> arrivals;
  while (at < b.size()) {
    Arrival a;
    a.at_ms = take<double>(b, at);
    const uint32_t n = take<uint32_t>(b, at);
    if (at + n > b.size()) throw std::runtime_error("truncated arrivals");
    a.bytes.assign(b.begin() + at, b.begin() + at + n);
    at += n;
    arrivals.push_back(std::move(a));
  }

  const std::string codec = argv[2];
  webrtc::SdpAudioFormat format = codec == "opus" ? webrtc::SdpAudioFormat("opus", 48000, 2)
                                                  : webrtc::SdpAudioFormat("G722", 8000, 1);
  if (codec != "opus" && codec != "g722") {
    std::fprintf(stderr, "unknown codec %s\n", codec.c_str());
    return 2;
  }
  // Start the clock at 1 s so no arrival time is zero.
  const int64_t origin_us = 1000000;
  webrtc::SimulatedClock clock(origin_us);
  webrtc::NetEq::Config config;
  config.sample_rate_hz = kOutRate;
  auto neteq = webrtc::DefaultNetEqFactory().CreateNetEq(
      config,
      webrtc::CreateAudioDecoderFactory<webrtc::AudioDecoderOpus, webrtc::AudioDecoderG722>(),
      &clock);
  if (!neteq->RegisterPayloadType(kPayloadType, format)) {
    std::fprintf(stderr, "RegisterPayloadType failed\n");
    return 1;
  }

  webrtc::PushResampler<int16_t> resampler;
  webrtc::AudioFrame frame;
  std::vector<int16_t> out, chunk(kOutRate / 100);
  webrtc::NetEqLifetimeStatistics stats = neteq->GetLifetimeStatistics();
  size_t next = 0, rejected = 0;
  for (int64_t tick = 0; tick * 10.0 < end_ms; ++tick) {
    const int64_t now_us = origin_us + tick * 10000;
    for (; next < arrivals.size() && arrivals[next].at_ms <= tick * 10.0; ++next) {
      const int64_t t_us = origin_us + int64_t(arrivals[next].at_ms * 1000.0 + 0.5);
      if (t_us > clock.TimeInMicroseconds()) {
        clock.AdvanceTimeMicroseconds(t_us - clock.TimeInMicroseconds());
      }
      webrtc::RTPHeader h;
      size_t off, len;
      const auto& p = arrivals[next].bytes;
      if (!parse_rtp(p, &h, &off, &len) ||
          neteq->InsertPacket(h, rtc::ArrayView<const uint8_t>(p.data() + off, len)) != 0) {
        ++rejected;
      }
    }
    clock.AdvanceTimeMicroseconds(now_us - clock.TimeInMicroseconds());
    bool muted = false;
    if (neteq->GetAudio(&frame, &muted) != webrtc::NetEq::kOK) {
      std::fprintf(stderr, "GetAudio failed at %.0f ms\n", tick * 10.0);
      return 1;
    }
    if (frame.speech_type_ == webrtc::AudioFrame::kNormalSpeech) {
      stats = neteq->GetLifetimeStatistics();
    }
    // Mono down-mix (NetEq gives the decoder's channel count).
    const size_t n = frame.samples_per_channel_, ch = frame.num_channels_;
    std::vector<int16_t> mono(n);
    const int16_t* d = frame.data();
    for (size_t i = 0; i < n; ++i) mono[i] = muted ? 0 : d[i * ch];
    resampler.InitializeIfNeeded(frame.sample_rate_hz_, kOutRate, 1);
    const int got = frame.sample_rate_hz_ == kOutRate
                        ? (std::copy(mono.begin(), mono.end(), chunk.begin()), int(n))
                        : resampler.Resample(mono.data(), n, chunk.data(), chunk.size());
    out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  }
  write_wav(argv[3], out);

  const double emitted = double(stats.jitter_buffer_emitted_count);
  std::printf(
      "{\"delay_ms\": %.1f, \"target_ms\": %.1f, \"late\": %.5f, \"concealed\": %.5f, "
      "\"packets\": %u, "
      "\"inserted\": %zu, \"rejected\": %zu, \"fec_received\": %llu, \"fec_discarded\": %llu, "
      "\"discarded\": %llu, \"accel\": %llu, \"expand\": %llu}\n",
      stats.jitter_buffer_delay_ms / (emitted > 0 ? emitted : 1),
      stats.jitter_buffer_target_delay_ms / (emitted > 0 ? emitted : 1),
      double(stats.packets_discarded) / double(arrivals.size() > 0 ? arrivals.size() : 1),
      double(stats.concealed_samples) /
          double(stats.total_samples_received > 0 ? stats.total_samples_received : 1),
      sent, arrivals.size() - rejected, rejected, (unsigned long long)stats.fec_packets_received,
      (unsigned long long)stats.fec_packets_discarded,
      (unsigned long long)stats.packets_discarded,
      (unsigned long long)stats.removed_samples_for_acceleration,
      (unsigned long long)stats.inserted_samples_for_deceleration);
  return 0;
}
