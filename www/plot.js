// A small scrolling line plot on a <canvas>: a fixed number of points per
// series, redrawn on demand (a few times per second), sharp on high-DPI
// screens, colours taken from CSS custom properties so it follows the theme.
//
//   const p = new Plot(canvas, { series: ['--c1', '--c2'], min: 0, max: 200, unit: 'ms' });
//   p.push([12, 40]); p.draw();

export class Plot {
  constructor(canvas, { series, min = 0, max = 1, autoMax = false, floor = null, unit = '', points = 240, ticks = 4 }) {
    this.canvas = canvas;
    this.series = series;
    this.min = min;
    this.max = max;
    this.autoMax = autoMax;
    this.floor = floor ?? min;
    this.unit = unit;
    this.points = points;
    this.ticks = ticks;
    this.data = series.map(() => new Array(points).fill(NaN));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  push(values) {
    values.forEach((v, i) => {
      const d = this.data[i];
      d.shift();
      d.push(Number.isFinite(v) ? v : NaN);
    });
  }

  clear() {
    for (const d of this.data) d.fill(NaN);
    this.draw();
  }

  _range() {
    let max = this.max;
    if (this.autoMax) {
      let m = 0;
      for (const d of this.data) for (const v of d) if (v > m) m = v;
      // Round up to a "nice" 1-2-5 number so the axis does not jump every frame.
      const want = Math.max(this.max, m * 1.1);
      const step = 10 ** Math.floor(Math.log10(want));
      max = [1, 2, 5, 10].map((k) => k * step).find((v) => v >= want);
    }
    return [this.min, Math.max(max, this.min + 1e-9)];
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const h = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const g = c.getContext('2d');
    const css = getComputedStyle(c);
    const col = (name) => css.getPropertyValue(name).trim() || '#888';
    g.clearRect(0, 0, w, h);
    const padL = 34 * dpr, padR = 6 * dpr, padT = 6 * dpr, padB = 6 * dpr;
    const pw = w - padL - padR, ph = h - padT - padB;
    const [lo, hi] = this._range();
    // 1-2-5 ranges: 5 steps for a 5, 4 for a 1 or a 2 (round tick values).
    const lead = Math.round((hi - lo) / 10 ** Math.floor(Math.log10(hi - lo)));
    const ticks = this.autoMax ? (lead === 5 ? 5 : 4) : this.ticks;
    const y = (v) => padT + ph - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * ph;
    // Grid and labels.
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    g.lineWidth = 1;
    for (let i = 0; i <= ticks; i++) {
      const v = lo + ((hi - lo) * i) / ticks;
      const yy = Math.round(y(v)) + 0.5;
      g.strokeStyle = col('--grid');
      g.beginPath(); g.moveTo(padL, yy); g.lineTo(w - padR, yy); g.stroke();
      g.fillStyle = col('--muted');
      const label = Math.abs(v) >= 10 || v === Math.round(v) ? v.toFixed(0) : v.toFixed(1);
      g.fillText(label, padL - 5 * dpr, Math.min(Math.max(yy, padT + 5 * dpr), h - padB - 5 * dpr));
    }
    // Series.
    const dx = pw / (this.points - 1);
    g.lineWidth = 1.75 * dpr;
    g.lineJoin = 'round';
    this.data.forEach((d, si) => {
      g.strokeStyle = col(this.series[si]);
      g.beginPath();
      let pen = false;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (Number.isNaN(v)) { pen = false; continue; }
        const xx = padL + i * dx, yy = y(Math.max(v, this.floor));
        if (pen) g.lineTo(xx, yy); else g.moveTo(xx, yy);
        pen = true;
      }
      g.stroke();
    });
  }
}
