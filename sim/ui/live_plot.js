// A Plotly chart that the server updates in place (sim/ui/live_plot.py).
//
// The figure (traces and layout) comes once as JSON in `figure_json`; each later frame is one custom
// message holding the new values of some traces' properties (numeric arrays as binary buffers) and
// of some layout properties, applied in one Plotly call. Nothing is sent back but a short
// "drawn" answer when the server asks for one (Play's pace) and a "view" hello when a view is
// drawn, which the server answers with the chart's current data.

function loadPlotly(path) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__reesimPlotly) {
    const root = (window.solara && window.solara.rootPath) || "";
    window.__reesimPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `${root}/${path}`;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        window.__reesimPlotly = null;
        reject(new Error(`plotly.js could not be loaded from ${script.src}`));
      };
      document.head.appendChild(script);
    });
  }
  return window.__reesimPlotly;
}

const DAY = /^(\d{4})-(\d\d)-(\d\d)$/;

// x values that are days ("2031-05-01") on a date axis become milliseconds (what Plotly makes of them
// anyway), once per figure instead of on every redraw
function datesToMs(fig) {
  for (const trace of fig.data) {
    const axis = fig.layout[(trace.xaxis || "x").replace(/^x/, "xaxis")];
    const x = trace.x;
    if (!axis || axis.type !== "date" || !Array.isArray(x) || !x.every((v) => DAY.test(v))) continue;
    trace.x = Float64Array.from(x, (v) => {
      const [, year, month, day] = DAY.exec(v);
      return Date.UTC(+year, +month - 1, +day);
    });
  }
  return fig;
}

function float64(view) {
  // a copy: the buffer's offset inside the websocket message need not be a multiple of 8
  return new Float64Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

// {traces: [[index, {prop: value or {buffer: k}}]], layout: {...}} -> Plotly.update's arguments
function plotlyUpdate(msg, buffers) {
  const indices = msg.traces.map((t) => t[0]);
  const style = {};
  msg.traces.forEach(([, props], k) => {
    for (const [name, value] of Object.entries(props)) {
      if (!style[name]) style[name] = new Array(indices.length).fill(undefined);
      style[name][k] = value !== null && typeof value === "object" && "buffer" in value
        ? float64(buffers[value.buffer]) : value;
    }
  });
  return [style, msg.layout || {}, indices];
}

function axisOf(layout, id) {
  return layout[id.replace(/^([xy])/, "$1axis")];   // "y" -> layout.yaxis, "y2" -> layout.yaxis2
}

function inside(values, axis) {
  const [lo, hi] = [Math.min(...axis.range), Math.max(...axis.range)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return false;   // not a numeric axis
  const log = axis.type === "log";
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;   // not drawn on this axis anyway
    const at = log ? Math.log10(v) : v;
    if (at < lo || at > hi) return false;
  }
  return true;
}

// True when only y arrays change, every line is already drawn and stays drawn (Plotly.animate of lines
// not drawn yet drops the chart's whole line layer, the other lines with it) and every value falls
// inside the axes as drawn (x fixed; y fixed or already covering the values): a full redraw would then
// leave the axes, legend and markers as they are.
function linesOnly(box, style, indices) {
  if (Object.keys(style).some((name) => name !== "y")) return false;
  const layout = box._fullLayout;
  return indices.every((i, k) => {
    const trace = box._fullData && box._fullData[i];
    const x = trace && axisOf(layout, trace.xaxis), y = trace && axisOf(layout, trace.yaxis);
    return Boolean(x && y && trace.visible === true && style.y[k] && style.y[k].length && !x.autorange
                   && (!y.autorange || inside(style.y[k], y)));
  });
}

// The update set on the figure's own traces and layout ({"title.text": ...} as a path), for
// Plotly.react: a full redraw that leaves every axis's type as the figure set it. Plotly.restyle and
// Plotly.update of a line's data make Plotly guess the types of its axes again from the data; the x of
// a date axis is in milliseconds here (datesToMs), which it guesses to be linear (ticks "1.8T", the
// markers' date strings at NaN), and naming the type in the same call resets the axis's range.
function setOnFigure(box, style, layout, indices) {
  indices.forEach((i, k) => {
    for (const [name, values] of Object.entries(style)) {
      if (values[k] !== undefined) box.data[i][name] = values[k];
    }
  });
  for (const [path, value] of Object.entries(layout)) {
    const keys = path.split(".");
    let node = box.layout;
    for (const key of keys.slice(0, -1)) node = node[key] = node[key] !== null && typeof node[key] === "object" ? node[key] : {};
    node[keys[keys.length - 1]] = value;
  }
}

// Plotly.animate without redraw re-plots the given traces only, at the page's next paint; a newer
// update replaces one not yet painted
const LINES_ONLY = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };

async function render({ model, el }) {
  const Plotly = await loadPlotly(model.get("plotly_path"));
  const box = document.createElement("div");
  box.className = "reesim-live-plot";
  el.appendChild(box);
  let drawn = null;      // resolves when the current figure is on the page
  let pending = null;    // the latest update that came while the figure was being drawn
  let skipped = 0;       // updates it replaced that asked for an answer

  function apply(msg, buffers) {
    const [style, layout, indices] = plotlyUpdate(msg, buffers);
    let done;
    // new values inside the axes: redraw the lines only, about half the work of a full redraw
    if (!Object.keys(layout).length && linesOnly(box, style, indices)) {
      done = Plotly.animate(box, { data: style.y.map((y) => ({ y })), traces: indices }, LINES_ONLY);
    }
    // otherwise a full redraw (values outside the axes, a layout change, a line not drawn yet)
    else {
      setOnFigure(box, style, layout, indices);
      done = Plotly.react(box, box.data, box.layout, model.get("config"));
    }
    const answers = skipped + (msg.ack ? 1 : 0);
    skipped = 0;
    // a line update replaced by a newer one before it was painted ends in a rejection: answered too
    const answer = () => answers && model.send({ drawn: answers });
    done.then(answer, answer);
  }

  function draw() {
    // updates sent before this figure belong to the one it replaces
    if (pending && pending[0].ack) skipped += 1;
    pending = null;
    const fig = datesToMs(JSON.parse(model.get("figure_json") || '{"data": [], "layout": {}}'));
    // an explicit width (the box's, followed below): with autosize Plotly measures the page on every update
    if (el.clientWidth > 0) fig.layout.width = el.clientWidth;
    const done = Plotly.react(box, fig.data, fig.layout, model.get("config")).then(() => {
      if (drawn !== done) return;
      drawn = null;
      if (pending) apply(...pending);
      pending = null;
    });
    drawn = done;
  }

  function onMessage(msg, buffers) {
    if (!msg || !msg.traces) return;
    if (drawn) {
      // each message holds whole values: only the latest counts, the ones it replaces are answered with it
      if (pending && pending[0].ack) skipped += 1;
      pending = [msg, buffers];
    }
    else apply(msg, buffers);
  }

  draw();
  model.on("change:figure_json", draw);
  model.on("msg:custom", onMessage);
  model.send({ view: true });            // the server answers with the current data
  let timer = null;
  const observer = new ResizeObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const width = el.clientWidth;
      const shown = box._fullLayout && box._fullLayout.width;
      if (box.isConnected && width > 0 && Math.abs(width - shown) > 2) Plotly.relayout(box, { width });
    }, 60);
  });
  observer.observe(el);
  return () => {
    observer.disconnect();
    model.off("change:figure_json", draw);
    model.off("msg:custom", onMessage);
    Plotly.purge(box);
  };
}

export default { render };
