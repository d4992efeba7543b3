//! Machine-learned Opus decoding (libopus ≥ 1.5), chosen per stream.
//!
//! Why a separate switch: the models (deep PLC, DRED's RDO-VAE decoder and
//! FARGAN vocoder, OSCE's LACE/NoLACE) add megabytes of weights and several
//! percent of a core per stream, so they are an opt-in build (cargo feature
//! `neural`) and, within that build, an opt-in per decoder. Without the
//! feature every field must stay off ([`crate::codec::CodecError::NotBuilt`]
//! otherwise), and Opus decodes with the classic PLC exactly as before.

/// Speech enhancement of decoded low-bitrate Opus speech (OSCE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Osce {
    /// No enhancement.
    #[default]
    Off,
    /// LACE: the lighter model (libopus decoder complexity 6).
    Lace,
    /// NoLACE: the stronger, costlier model (decoder complexity 7+).
    NoLace,
}

impl Osce {
    /// Every model, in order.
    pub const ALL: [Osce; 3] = [Osce::Off, Osce::Lace, Osce::NoLace];

    /// The name the npm package and the wasm bindings use: `off`, `lace`,
    /// `nolace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Osce::Off => "off",
            Osce::Lace => "lace",
            Osce::NoLace => "nolace",
        }
    }

    /// The model of that name ([`Osce::as_str`]).
    pub fn from_name(name: &str) -> Option<Osce> {
        Osce::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// Which machine-learned tools an Opus decoder uses.
///
/// libopus selects them by the decoder's complexity: 5 turns deep PLC on,
/// 6 adds LACE, 7 NoLACE; DRED decoding needs deep PLC (its features drive
/// the same vocoder). So `dred` or any `osce` implies deep PLC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NeuralOpus {
    /// Deep packet-loss concealment (LPCNet features + FARGAN vocoder)
    /// instead of the classic pitch-repeating PLC.
    pub deep_plc: bool,
    /// Recover lost audio from Deep REDundancy carried in later packets
    /// (sent by encoders with a DRED duration set).
    pub dred: bool,
    /// Speech enhancement of decoded SILK speech.
    pub osce: Osce,
    /// After an outage long enough to stop playout, replay the part of it
    /// that the first packet after it carries as DRED (up to 1 s) before
    /// that packet, instead of skipping it: no words lost, at the cost of
    /// that much extra delay, which time-compression then removes. The
    /// Receiver reads it; needs `dred`. Off in [`NeuralOpus::ON`]: PESQ
    /// scores the delay jumps below skipping (`bench/pesq/neural.py`), so
    /// it suits one-way listening (recordings, voice agents) over calls.
    pub dred_rewind: bool,
}

impl NeuralOpus {
    /// Deep PLC, DRED and the lighter enhancement model (no rewind): what
    /// `{ opus: { neural: true } }` selects in the npm package.
    pub const ON: NeuralOpus = NeuralOpus {
        deep_plc: true,
        dred: true,
        osce: Osce::Lace,
        dred_rewind: false,
    };

    /// Nothing machine-learned: the classic decoder.
    pub fn is_off(&self) -> bool {
        *self == NeuralOpus::default()
    }

    /// The libopus decoder complexity that selects these tools.
    pub fn decoder_complexity(&self) -> i32 {
        match self.osce {
            Osce::NoLace => 7,
            Osce::Lace => 6,
            Osce::Off if self.deep_plc || self.dred => 5,
            Osce::Off => 0,
        }
    }

    /// Whether this build has the models (`neural` cargo feature).
    pub const fn built() -> bool {
        cfg!(feature = "neural")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osce_names_round_trip() {
        for o in Osce::ALL {
            assert_eq!(Osce::from_name(o.as_str()), Some(o));
        }
        assert_eq!(Osce::from_name("NoLACE"), None);
    }

    #[test]
    fn complexity_selects_the_tools() {
        assert_eq!(NeuralOpus::default().decoder_complexity(), 0);
        assert!(NeuralOpus::default().is_off());
        let plc = NeuralOpus {
            deep_plc: true,
            ..NeuralOpus::default()
        };
        assert_eq!(plc.decoder_complexity(), 5);
        let dred = NeuralOpus {
            dred: true,
            ..NeuralOpus::default()
        };
        assert_eq!(dred.decoder_complexity(), 5);
        assert_eq!(NeuralOpus::ON.decoder_complexity(), 6);
        let nolace = NeuralOpus {
            osce: Osce::NoLace,
            ..NeuralOpus::default()
        };
        assert_eq!(nolace.decoder_complexity(), 7);
        assert!(!nolace.is_off());
    }
}
