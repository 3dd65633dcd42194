// A Plotly chart that the server updates in place (sim/ui/live_plot.py).
//
// The figure (traces and layout) comes once as JSON in `figure_json`; each later frame is one custom
// message holding the new values of some traces' properties (numeric arrays as binary buffers) and
// of some layout properties, applied with one Plotly.update. Nothing is sent back but a short
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

async function render({ model, el }) {
  const Plotly = await loadPlotly(model.get("plotly_path"));
  const box = document.createElement("div");
  box.className = "reesim-live-plot";
  el.appendChild(box);
  let drawn = null;      // resolves when the current figure is on the page
  let pending = null;    // the latest update that came while the figure was being drawn
  let skipped = 0;       // updates it replaced that asked for an answer

  async function apply(msg, buffers) {
    const [style, layout, indices] = plotlyUpdate(msg, buffers);
    // restyle alone when the layout stays: Plotly.update also runs a relayout, which measures the page
    if (Object.keys(layout).length) await Plotly.update(box, style, layout, indices);
    else await Plotly.restyle(box, style, indices);
    const answers = skipped + (msg.ack ? 1 : 0);
    skipped = 0;
    if (answers) model.send({ drawn: answers });
  }

  function draw() {
    // updates sent before this figure belong to the one it replaces
    if (pending && pending[0].ack) skipped += 1;
    pending = null;
    const fig = JSON.parse(model.get("figure_json") || '{"data": [], "layout": {}}');
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
