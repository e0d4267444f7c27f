// Sparklines as inline SVG: a polyline over the last points, scaled to their own maximum, and a baseline.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 40;

/**
 * Draws `values` (oldest first) into `svg`, `capacity` points spanning the full width so the line grows
 * from the right as history fills. Reuses the svg's polyline, so a redraw a second allocates one string.
 * @param {SVGSVGElement} svg
 * @param {readonly number[]} values
 * @param {number} capacity
 */
export function sparkline(svg, values, capacity) {
  if (svg.childElementCount === 0) {
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    const base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', '0');
    base.setAttribute('x2', String(WIDTH));
    base.setAttribute('y1', String(HEIGHT - 0.5));
    base.setAttribute('y2', String(HEIGHT - 0.5));
    svg.append(base, document.createElementNS(SVG, 'polyline'));
  }
  const line = svg.lastElementChild;
  if (line === null) return;
  const max = Math.max(1e-9, ...values);
  const step = WIDTH / Math.max(1, capacity - 1);
  const start = WIDTH - (values.length - 1) * step;
  const points = values.map((v, i) => `${(start + i * step).toFixed(1)},${(HEIGHT - 2 - (v / max) * (HEIGHT - 4)).toFixed(1)}`);
  line.setAttribute('points', points.join(' '));
}

/** @param {string} className */
export function newChart(className) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', className);
  return svg;
}
