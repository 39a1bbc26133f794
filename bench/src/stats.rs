//! Summaries of repeated measurements.

/// The median, minimum and maximum of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The middle sample (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples.
    pub count: usize,
}

impl Summary {
    /// The summary of `samples`; `None` when there are none. NaNs sort last.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: s[0],
            max: s[n - 1],
            count: n,
        })
    }
}

/// The 50th and 99th percentiles of a set of samples (nearest rank).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    /// The median sample: half of them are at most this.
    pub p50: f64,
    /// 99 % of the samples are at most this.
    pub p99: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (reordered in place); `None` when there are none.
    pub fn of(samples: &mut [f64]) -> Option<Percentiles> {
        samples.sort_by(f64::total_cmp);
        Some(Percentiles {
            p50: percentile(samples, 0.50)?,
            p99: percentile(samples, 0.99)?,
        })
    }
}

/// The `q`-quantile (0 < `q` ≤ 1) of `sorted` by nearest rank: the smallest sample with at
/// least a fraction `q` of the samples at or below it; `None` when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::{percentile, Percentiles, Summary};

    #[test]
    fn odd_and_even_counts() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.count), (2.0, 1.0, 3.0, 3));
        let s = Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.count), (2.5, 1.0, 4.0, 4));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&hundred, 0.50), Some(50.0));
        assert_eq!(percentile(&hundred, 0.99), Some(99.0));
        assert_eq!(percentile(&hundred, 1.0), Some(100.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
        let mut few = [4.0, 1.0, 3.0, 2.0];
        let p = Percentiles::of(&mut few).unwrap();
        assert_eq!((p.p50, p.p99), (2.0, 4.0));
        assert_eq!(Percentiles::of(&mut []), None);
    }
}
