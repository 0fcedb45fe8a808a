import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';

/** Latencies are recorded in µs, 3 significant digits, from 1 µs up to 10 minutes. */
const HIGHEST_US = 600_000_000;

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/** Sums encoded histograms (one per generator) into one. */
export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const item of encoded) total.add(decodeFromCompressedBase64(item));
  return total;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles in ms; NaN when nothing was recorded. */
export function percentiles(histogram: Histogram): Percentiles {
  const count = histogram.totalCount;
  const at = (p: number) => (count === 0 ? Number.NaN : histogram.getValueAtPercentile(p) / 1000);
  return {
    count,
    p50: at(50),
    p99: at(99),
    p999: at(99.9),
    max: count === 0 ? Number.NaN : histogram.maxValue / 1000,
  };
}
