//! RFC 3389 comfort noise (CN, static payload type 13): the payload, and a
//! generator that plays it.
//!
//! Why: SIP endpoints with silence suppression (Asterisk, FreeSWITCH, most
//! desk phones) stop sending G.711 / G.722 in pauses and send one CN packet
//! instead, describing the background noise: its level and, optionally, its
//! spectrum as reflection coefficients of an all-pole model. Playing digital
//! silence in those pauses sounds like the call dropped; playing noise at
//! the described level and colour does not.
//!
//! The payload (RFC 3389 §3): one byte of noise level in −dBov (0..=127,
//! 0 dBov being a full-scale square wave, RMS 1.0 here), then zero or more
//! reflection coefficients, byte `b` meaning `(b − 127) / 128` (the
//! quantiser of ITU-T G.711 Appendix II that ffmpeg and WebRTC also use).
//!
//! The generator filters white noise through the all-pole model (the
//! coefficients turned into a direct-form predictor by the step-up
//! recursion, in f64) with the excitation scaled by the model's prediction
//! gain so the output has the signalled level. Any payload is safe: each
//! coefficient is held within ±[`MAX_REFLECTION`] and the model stops
//! adding stages once its prediction gain would pass [`MAX_GAIN_DB`] (a
//! decoder may reduce the order, RFC 3389 §3), so hostile bytes cannot push
//! poles onto the unit circle. Updates within one pause are approached
//! smoothly (level halfway, coefficients 40 % per update, as ffmpeg's
//! decoder does); [`ComfortNoise::set`] starts a new pause at its own
//! level. No allocation: the state is a few fixed arrays.
//!
//! The model is applied at the rate the noise is generated at; for the
//! 8 kHz codecs CN is used with (G.711) that is its own clock, for wider
//! codecs the colour is stretched (the level is unaffected).

use crate::codec::CodecError;

/// Most reflection coefficients used; further ones are ignored (RFC 3389
/// lets a decoder reduce the model order).
pub const MAX_ORDER: usize = 16;

/// Largest |reflection coefficient| used (byte 0 or 255 would otherwise
/// put a pole on the unit circle).
pub const MAX_REFLECTION: f64 = 0.99;

/// Largest prediction gain of the model (`1 / Π(1 − kᵢ²)`), in dB; stages
/// beyond it are dropped.
pub const MAX_GAIN_DB: f64 = 40.0;

/// One CN payload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CnPayload {
    /// Noise level in −dBov, 0..=127 (0 loudest).
    pub level_dbov: u8,
    order: usize,
    refl: [f32; MAX_ORDER],
}

impl CnPayload {
    /// A payload of `level_dbov` (masked to 0..=127) and up to
    /// [`MAX_ORDER`] reflection coefficients (each clamped to the
    /// quantiser's range −127/128..=1).
    pub fn new(level_dbov: u8, refl: &[f32]) -> CnPayload {
        let mut r = [0f32; MAX_ORDER];
        let order = refl.len().min(MAX_ORDER);
        for (d, &k) in r.iter_mut().zip(refl) {
            *d = if k.is_finite() {
                k.clamp(-127.0 / 128.0, 1.0)
            } else {
                0.0
            };
        }
        CnPayload {
            level_dbov: level_dbov & 0x7F,
            order,
            refl: r,
        }
    }

    /// Parses a payload: the level byte (its unused top bit ignored) and
    /// the reflection coefficients after it.
    pub fn parse(payload: &[u8]) -> Result<CnPayload, CodecError> {
        let (&level, coefs) = payload
            .split_first()
            .ok_or(CodecError::InvalidPayload("empty comfort-noise payload"))?;
        let mut refl = [0f32; MAX_ORDER];
        let order = coefs.len().min(MAX_ORDER);
        for (d, &b) in refl.iter_mut().zip(coefs) {
            *d = (f32::from(b) - 127.0) / 128.0;
        }
        Ok(CnPayload {
            level_dbov: level & 0x7F,
            order,
            refl,
        })
    }

    /// Writes the payload into `out`; returns its length (1 + order).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, CodecError> {
        let n = 1 + self.order;
        let got = out.len();
        let dst = out
            .get_mut(..n)
            .ok_or(CodecError::OutputTooSmall { needed: n, got })?;
        dst[0] = self.level_dbov;
        for (d, &k) in dst[1..].iter_mut().zip(&self.refl) {
            *d = (k * 128.0 + 127.0).round().clamp(0.0, 255.0) as u8;
        }
        Ok(n)
    }

    /// The reflection coefficients carried (the model order is their count).
    pub fn reflection_coefficients(&self) -> &[f32] {
        &self.refl[..self.order]
    }

    /// RMS of the described noise, full scale 1.0: `10^(−level/20)`.
    pub fn rms(&self) -> f32 {
        10f32.powf(-f32::from(self.level_dbov) / 20.0)
    }
}

/// Plays CN payloads: coloured noise at their level, mono.
#[derive(Clone, Debug)]
pub struct ComfortNoise {
    /// Current power (RMS²) and its target.
    power: f32,
    target_power: f32,
    /// Current reflection coefficients and their target.
    refl: [f32; MAX_ORDER],
    target_refl: [f32; MAX_ORDER],
    /// Direct-form predictor from `refl`, and the excitation gain.
    lpc: [f64; MAX_ORDER],
    gain: f64,
    /// Last outputs, newest first.
    mem: [f64; MAX_ORDER],
    rng: u32,
    primed: bool,
}

impl Default for ComfortNoise {
    fn default() -> Self {
        ComfortNoise::new()
    }
}

impl ComfortNoise {
    /// A silent generator (until [`ComfortNoise::update`]).
    pub fn new() -> ComfortNoise {
        ComfortNoise {
            power: 0.0,
            target_power: 0.0,
            refl: [0.0; MAX_ORDER],
            target_refl: [0.0; MAX_ORDER],
            lpc: [0.0; MAX_ORDER],
            gain: 0.0,
            mem: [0.0; MAX_ORDER],
            rng: 0x1234_5678,
            primed: false,
        }
    }

    /// Takes the parameters of a CN packet that starts a pause: used as
    /// they are (the filter keeps its state, so there is no click).
    pub fn set(&mut self, p: &CnPayload) {
        self.primed = false;
        self.update(p);
    }

    /// Takes the parameters of a CN packet: the first since [`Self::set`] /
    /// [`Self::reset`] is used as is, later ones are approached over the
    /// next updates (see the module docs).
    pub fn update(&mut self, p: &CnPayload) {
        let rms = p.rms();
        self.target_power = rms * rms;
        self.target_refl = p.refl;
        if self.primed {
            self.power = 0.5 * (self.power + self.target_power);
            for (k, &t) in self.refl.iter_mut().zip(&self.target_refl) {
                *k = 0.6 * *k + 0.4 * t;
            }
        } else {
            self.power = self.target_power;
            self.refl = self.target_refl;
            self.primed = true;
        }
        self.design();
    }

    /// Whether a payload has been taken since the last reset.
    pub fn is_primed(&self) -> bool {
        self.primed
    }

    /// Forgets the parameters and the filter state.
    pub fn reset(&mut self) {
        *self = ComfortNoise {
            rng: self.rng,
            ..ComfortNoise::new()
        };
    }

    /// Step-up recursion (reflection → predictor) and the excitation gain:
    /// white noise of power `g` through `1/A(z)` has power `g / Π(1 − kᵢ²)`.
    fn design(&mut self) {
        let min_e = 10f64.powf(-MAX_GAIN_DB / 10.0);
        let mut prev = [0f64; MAX_ORDER];
        let mut lpc = [0f64; MAX_ORDER];
        let mut e = 1.0f64;
        for (m, &k) in self.refl.iter().enumerate() {
            let k = f64::from(k).clamp(-MAX_REFLECTION, MAX_REFLECTION);
            if e * (1.0 - k * k) < min_e {
                break; // the model's order ends here
            }
            prev[..m].copy_from_slice(&lpc[..m]);
            lpc[m] = k;
            for i in 0..m {
                lpc[i] = prev[i] + k * prev[m - 1 - i];
            }
            e *= 1.0 - k * k;
        }
        self.lpc = lpc;
        // Uniform noise in [−1, 1) has power 1/3.
        self.gain = (3.0 * e * f64::from(self.power)).sqrt();
    }

    /// Fills `out` with noise (silence before the first update).
    pub fn generate(&mut self, out: &mut [f32]) {
        for y in out.iter_mut() {
            *y = self.sample();
        }
    }

    /// The next sample of noise (0 before the first update).
    pub fn sample(&mut self) -> f32 {
        if !self.primed {
            return 0.0;
        }
        // xorshift32: cheap, allocation-free, good enough for noise.
        let mut s = self.rng;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.rng = s;
        let mut acc = f64::from(s as i32) * (1.0 / 2_147_483_648.0) * self.gain;
        for (a, m) in self.lpc.iter().zip(&self.mem) {
            acc -= a * m;
        }
        // Bounded whatever happens (full scale; the model keeps far below).
        let v = if acc.is_finite() {
            acc.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        self.mem.copy_within(..MAX_ORDER - 1, 1);
        self.mem[0] = v;
        v as f32
    }
}
