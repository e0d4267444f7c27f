/**
 * A grouped bar chart as hand-written SVG (no dependency): per peer, one bar for requests/s on the left
 * axis and one for p99 latency on the right axis, each labelled with its value.
 */

export interface ChartGroup {
  label: string;
  rps?: number;
  p99Ms?: number;
}

const WIDTH = 960;
const HEIGHT = 460;
const MARGIN = { top: 70, right: 80, bottom: 70, left: 80 };
const RPS_COLOR = '#4e79a7';
const P99_COLOR = '#f28e2b';
const TICKS = 5;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The smallest 1, 2 or 5 times a power of ten at or above `v`, so axis ticks are round numbers. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= v) return step * power;
  return 10 * power;
}

function short(n: number): string {
  if (n === 0) return '0';
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10) return String(Math.round(n));
  return n.toFixed(n >= 1 ? 1 : 2);
}

/** Latency tick labels stay in plain milliseconds: "1000", not "1.0k". */
function ms(n: number): string {
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}

export function groupedBarChart(groups: readonly ChartGroup[], title: string, subtitle: string): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const rpsMax = niceCeil(Math.max(0, ...groups.map((g) => g.rps ?? 0)));
  const p99Max = niceCeil(Math.max(0, ...groups.map((g) => g.p99Ms ?? 0)));
  const slot = plotW / Math.max(1, groups.length);
  const barW = Math.min(36, slot * 0.3);
  const y = (value: number, max: number) => MARGIN.top + plotH - (value / max) * plotH;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(`<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555">${escapeXml(subtitle)}</text>`);

  // Grid and both axes' tick labels.
  for (let i = 0; i <= TICKS; i++) {
    const ty = MARGIN.top + plotH - (i / TICKS) * plotH;
    out.push(`<line x1="${MARGIN.left}" y1="${ty}" x2="${MARGIN.left + plotW}" y2="${ty}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${ty + 4}" text-anchor="end" fill="${RPS_COLOR}">${short((rpsMax * i) / TICKS)}</text>`);
    out.push(`<text x="${MARGIN.left + plotW + 8}" y="${ty + 4}" fill="${P99_COLOR}">${ms((p99Max * i) / TICKS)}</text>`);
  }
  out.push(`<text transform="translate(20 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${RPS_COLOR}">requests/s (median)</text>`);
  out.push(
    `<text transform="translate(${WIDTH - 18} ${MARGIN.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="${P99_COLOR}">p99 latency, ms (median)</text>`,
  );
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`);

  groups.forEach((g, i) => {
    const cx = MARGIN.left + slot * i + slot / 2;
    const bars: [number | undefined, number, string, string][] = [
      [g.rps, rpsMax, RPS_COLOR, g.rps === undefined ? '' : short(g.rps)],
      [g.p99Ms, p99Max, P99_COLOR, g.p99Ms === undefined ? '' : `${short(g.p99Ms)} ms`],
    ];
    bars.forEach(([value, max, color, label], j) => {
      const x = cx - barW - 2 + j * (barW + 4);
      if (value === undefined) {
        out.push(`<text x="${x + barW / 2}" y="${MARGIN.top + plotH - 6}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const top = y(value, max);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(MARGIN.top + plotH - top).toFixed(1)}" fill="${color}"/>`,
      );
      out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(top - 5).toFixed(1)}" text-anchor="middle" font-size="11">${escapeXml(label)}</text>`);
    });
    out.push(`<text x="${cx}" y="${MARGIN.top + plotH + 20}" text-anchor="middle">${escapeXml(g.label)}</text>`);
  });

  // Legend.
  const lx = MARGIN.left;
  const ly = HEIGHT - 24;
  out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${RPS_COLOR}"/><text x="${lx + 18}" y="${ly}">requests/s (left axis)</text>`);
  out.push(`<rect x="${lx + 180}" y="${ly - 10}" width="12" height="12" fill="${P99_COLOR}"/><text x="${lx + 198}" y="${ly}">p99 latency (right axis)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
