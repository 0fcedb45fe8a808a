import { Resvg } from '@resvg/resvg-js';

/**
 * Latency against offered load as an SVG drawn here, turned into a PNG by resvg (a prebuilt
 * binary from npm: no browser, no system tool). Text uses DejaVu Sans, Debian's default font
 * (fonts-dejavu-core); without any font the lines and dots are still drawn.
 */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number; pass: boolean }[];
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A horizontal dashed line (the p99 limit). */
  threshold?: { y: number; label: string };
}

export const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const W = 960;
const H = 600;
const M = { left: 80, right: 270, top: 70, bottom: 70 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceStep(range: number): number {
  const raw = range / 8;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 2.5, 5, 10];
  return (steps.find((s) => s * magnitude >= raw) ?? 10) * magnitude;
}

export function chartSvg(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && p.y > 0);
  const xMax = Math.max(1, ...all.map((p) => p.x)) * 1.05;
  const yValues = all.map((p) => p.y).concat(spec.threshold ? [spec.threshold.y] : []);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...yValues, 1))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...yValues, 10)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xMax) * plotW;
  const y = (v: number) =>
    M.top +
    plotH -
    ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      plotH;
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="${M.left}" y="30" font-size="20" font-weight="bold">${escape(spec.title)}</text>`,
  );
  parts.push(
    `<text x="${M.left}" y="52" font-size="13" fill="#555">${escape(spec.subtitle)}</text>`,
  );
  // Grid and axes.
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(decade)}" y2="${y(decade)}" stroke="#ddd"/>`,
    );
    parts.push(
      `<text x="${M.left - 8}" y="${y(decade) + 4}" font-size="12" text-anchor="end">${decade >= 1 ? decade : decade.toFixed(1)}</text>`,
    );
    for (const minor of [2, 5]) {
      if (decade * minor < yMax)
        parts.push(
          `<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(decade * minor)}" y2="${y(decade * minor)}" stroke="#f0f0f0"/>`,
        );
    }
  }
  const step = niceStep(xMax);
  for (let v = 0; v <= xMax; v += step) {
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${M.top}" y2="${M.top + plotH}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${x(v)}" y="${M.top + plotH + 18}" font-size="12" text-anchor="middle">${Math.round(v)}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  );
  parts.push(
    `<text x="${M.left + plotW / 2}" y="${H - 22}" font-size="14" text-anchor="middle">${escape(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(24 ${M.top + plotH / 2}) rotate(-90)" font-size="14" text-anchor="middle">${escape(spec.yLabel)}</text>`,
  );
  if (spec.threshold) {
    const ty = y(spec.threshold.y);
    parts.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${ty}" y2="${ty}" stroke="#444" stroke-dasharray="6 4"/>`,
    );
    parts.push(
      `<text x="${M.left + plotW - 6}" y="${ty - 6}" font-size="12" text-anchor="end" fill="#444">${escape(spec.threshold.label)}</text>`,
    );
  }
  spec.series.forEach((series, i) => {
    const points = series.points.filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (points.length > 0) {
      const path = points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2.5"/>`,
      );
      for (const p of points) {
        parts.push(
          `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="4.5" stroke="${series.color}" stroke-width="2" fill="${p.pass ? series.color : 'white'}"/>`,
        );
      }
    }
    const ly = M.top + 20 + i * 24;
    const lx = M.left + plotW + 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${lx + 32}" y="${ly + 4}" font-size="13">${escape(series.name)}</text>`);
  });
  const ly = M.top + 20 + spec.series.length * 24 + 10;
  const lx = M.left + plotW + 16;
  parts.push(
    `<circle cx="${lx + 6}" cy="${ly}" r="4.5" fill="#333"/><text x="${lx + 18}" y="${ly + 4}" font-size="12">pass (p99 &lt; 50 ms, no loss)</text>`,
  );
  parts.push(
    `<circle cx="${lx + 6}" cy="${ly + 20}" r="4.5" fill="white" stroke="#333" stroke-width="2"/><text x="${lx + 18}" y="${ly + 24}" font-size="12">fail</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">${parts.join('')}</svg>`;
}

export function chartPng(spec: ChartSpec): Buffer {
  const resvg = new Resvg(chartSvg(spec), {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'width', value: W },
  });
  return resvg.render().asPng();
}
