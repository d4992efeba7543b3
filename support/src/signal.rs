//! Decoding PCM fixtures and comparing signals: level, SNR, normalized
//! cross-correlation, alignment by the best lag, and searching for a
//! signal inside another. Sums are in `f64`.

/// Signed 16-bit little-endian samples; panics on an odd length.
pub fn s16le(bytes: &[u8]) -> Vec<i16> {
    assert_eq!(bytes.len() % 2, 0, "odd s16le length");
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Signed 16-bit little-endian samples as `f32` in `[-1, 1)` (`x / 32768`);
/// panics on an odd length.
pub fn s16le_f32(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(bytes.len() % 2, 0, "odd s16le length");
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect()
}

/// Channel `index` of `channels`-channel interleaved samples.
pub fn channel(x: &[f32], index: usize, channels: usize) -> Vec<f32> {
    x.iter().skip(index).step_by(channels).copied().collect()
}

/// Root mean square of `x` (0 when empty).
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// An amplitude ratio in dB, `20·log10(x)`, floored at −240 dB.
pub fn db(x: f64) -> f64 {
    20.0 * x.max(1e-12).log10()
}

/// SNR in dB of `test` against `reference` (over the shorter length).
pub fn snr_db(reference: &[f32], test: &[f32]) -> f64 {
    let (mut s, mut e) = (0f64, 0f64);
    for (&r, &t) in reference.iter().zip(test) {
        s += (r as f64).powi(2);
        e += (r as f64 - t as f64).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

/// Normalized cross-correlation at lag 0 (over the shorter length): 1 for
/// the same waveform at any gain, 0 for unrelated ones.
pub fn ncc(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += x as f64 * y as f64;
        aa += x as f64 * x as f64;
        bb += y as f64 * y as f64;
    }
    ab / (aa * bb).sqrt().max(1e-30)
}

/// How well a delayed copy matches its reference, at its best lag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aligned {
    /// Delay of the copy, samples.
    pub lag: usize,
    /// Normalized cross-correlation at that lag.
    pub ncc: f64,
    /// SNR at that lag, dB.
    pub snr_db: f64,
}

/// Compares `reference` with `test[lag..]` for each lag in `lags` (over
/// their common length) and returns the lag of the highest [`ncc`] (the
/// first on ties), with that correlation and the SNR there. The lag is 0
/// and the correlation −1 when `lags` is empty.
pub fn align(reference: &[f32], test: &[f32], lags: impl IntoIterator<Item = usize>) -> Aligned {
    let mut best = Aligned {
        lag: 0,
        ncc: -1.0,
        snr_db: 0.0,
    };
    for lag in lags {
        let n = reference.len().min(test.len().saturating_sub(lag));
        let (a, b) = (&reference[..n], &test[lag..lag + n]);
        let c = ncc(a, b);
        if c > best.ncc {
            best = Aligned {
                lag,
                ncc: c,
                snr_db: snr_db(a, b),
            };
        }
    }
    best
}

/// Where `needle` occurs exactly in `hay`.
pub fn find_exact(hay: &[f32], needle: &[f32]) -> Option<usize> {
    (0..hay.len().saturating_sub(needle.len()) + 1).find(|&k| hay[k..k + needle.len()] == *needle)
}

/// Where `needle` occurs in `hay` within `tol` per sample.
pub fn find_close(hay: &[f32], needle: &[f32], tol: f32) -> Option<usize> {
    (0..hay.len().saturating_sub(needle.len()) + 1).find(|&k| {
        hay[k..k + needle.len()]
            .iter()
            .zip(needle)
            .all(|(a, b)| (a - b).abs() <= tol)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_finds_the_delay() {
        let x: Vec<f32> = (0..400).map(|i| ((i * i) % 17) as f32 - 8.0).collect();
        let mut y = vec![0.0; 5];
        y.extend(x.iter().map(|v| v * 0.5));
        let a = align(&x, &y, 0..10);
        assert_eq!(a.lag, 5);
        assert!((a.ncc - 1.0).abs() < 1e-12);
        assert!((a.snr_db - 10.0 * (1.0f64 / 0.25).log10()).abs() < 1e-9);
        assert_eq!(find_exact(&y, &y[3..60]), Some(3));
        assert_eq!(channel(&[1.0, 2.0, 3.0, 4.0], 1, 2), vec![2.0, 4.0]);
    }
}
