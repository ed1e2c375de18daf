// The 2-D map of words on a canvas: pan by dragging, zoom with the wheel, hover for the word,
// click a point to search it. Words are drawn with fillText and shown in the tooltip as
// textContent: never parsed as markup.

const PALETTE = [
  "#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed",
  "#0891b2", "#db2777", "#65a30d", "#92400e", "#475569",
];
const PLAIN = "#3b82f6";
const HIGHLIGHT = "#e11d48";
const LABEL_LIMIT = 250; // points in view up to which every point gets its label
const HIT_RADIUS = 8; // pixels from a point that still count as on it
const MARGIN = 30;

export class WordMap {
  constructor(canvas, tooltip, onPick) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.onPick = onPick;
    this.points = [];
    this.highlighted = new Set();
    this.view = { scale: 1, x: 0, y: 0 }; // screen = world * scale + offset (y flipped)
    this.moved = false; // the user panned or zoomed: a resize keeps their view
    this.drag = null;
    canvas.wordMap = this; // a script or a test reaches the map (points, screen()) from its canvas
    this.listen();
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  setPoints(points) {
    this.points = points;
    this.canvas.dataset.points = String(points.length);
    this.moved = false;
    this.resize();
  }

  highlight(words) {
    this.highlighted = new Set(words);
    this.draw();
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    this.canvas.width = Math.max(1, Math.round(width * ratio));
    this.canvas.height = Math.max(1, Math.round(height * ratio));
    this.canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    if (!this.moved) this.fit(width, height);
    this.draw();
  }

  fit(width, height) {
    if (!this.points.length) return;
    const xs = this.points.map((p) => p.x);
    const ys = this.points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const spanX = Math.max(x1 - x0, 1e-9);
    const spanY = Math.max(y1 - y0, 1e-9);
    const scale = Math.min((width - 2 * MARGIN) / spanX, (height - 2 * MARGIN) / spanY);
    this.view = {
      scale: scale > 0 ? scale : 1,
      x: width / 2 - ((x0 + x1) / 2) * scale,
      y: height / 2 + ((y0 + y1) / 2) * scale,
    };
  }

  screen(point) {
    return [point.x * this.view.scale + this.view.x, -point.y * this.view.scale + this.view.y];
  }

  draw() {
    const ctx = this.canvas.getContext("2d");
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    ctx.clearRect(0, 0, width, height);
    const inView = [];
    for (const point of this.points) {
      const [sx, sy] = this.screen(point);
      if (sx >= -5 && sx <= width + 5 && sy >= -5 && sy <= height + 5) inView.push([point, sx, sy]);
    }
    const labelAll = inView.length <= LABEL_LIMIT;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const [point, sx, sy] of inView) {
      const marked = this.highlighted.has(point.word);
      const radius = marked || point.chosen ? 4.5 : 2.5;
      ctx.fillStyle = marked ? HIGHLIGHT : point.group === null ? PLAIN : PALETTE[point.group % PALETTE.length];
      ctx.beginPath();
      ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
      ctx.fill();
      if (labelAll || marked || point.chosen) {
        ctx.fillStyle = marked ? HIGHLIGHT : point.chosen ? "#111827" : "#4b5563";
        ctx.font = marked || point.chosen ? "bold 12px system-ui, sans-serif" : "11px system-ui, sans-serif";
        ctx.fillText(point.word, sx + radius + 2, sy);
      }
    }
    this.canvas.dataset.drawn = String(inView.length);
  }

  nearest(sx, sy) {
    let best = null;
    let bestDistance = HIT_RADIUS * HIT_RADIUS;
    for (const point of this.points) {
      const [px, py] = this.screen(point);
      const distance = (px - sx) ** 2 + (py - sy) ** 2;
      if (distance <= bestDistance) {
        best = point;
        bestDistance = distance;
      }
    }
    return best;
  }

  listen() {
    const canvas = this.canvas;
    const local = (event) => {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    };
    canvas.addEventListener("mousedown", (event) => {
      this.drag = { start: local(event), view: { ...this.view }, moved: false };
    });
    window.addEventListener("mouseup", (event) => {
      const drag = this.drag;
      this.drag = null;
      if (drag && !drag.moved && event.target === canvas) {
        const point = this.nearest(...local(event));
        if (point) this.onPick(point.word);
      }
    });
    canvas.addEventListener("mousemove", (event) => {
      const [sx, sy] = local(event);
      if (this.drag) {
        const [dx, dy] = [sx - this.drag.start[0], sy - this.drag.start[1]];
        if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = this.moved = true;
        this.view = { ...this.drag.view, x: this.drag.view.x + dx, y: this.drag.view.y + dy };
        this.draw();
      }
      this.showTooltip(this.nearest(sx, sy), event);
    });
    canvas.addEventListener("mouseleave", () => this.showTooltip(null));
    canvas.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const [sx, sy] = local(event);
        const factor = Math.exp(-event.deltaY * 0.0015);
        this.view = {
          scale: this.view.scale * factor,
          x: sx - (sx - this.view.x) * factor,
          y: sy - (sy - this.view.y) * factor,
        };
        this.moved = true;
        this.draw();
      },
      { passive: false },
    );
  }

  showTooltip(point, event) {
    if (!point) {
      this.tooltip.hidden = true;
      this.canvas.style.cursor = "grab";
      return;
    }
    this.tooltip.textContent = point.word;
    this.tooltip.style.left = `${event.clientX + 12}px`;
    this.tooltip.style.top = `${event.clientY + 12}px`;
    this.tooltip.hidden = false;
    this.canvas.style.cursor = "pointer";
  }
}
