//! `timeline.html`: a run's timeline as a page to look at in a browser.
//!
//! The terminal diagram must stay short; a page can show every event. One
//! self-contained file (no network, no fonts, no scripts from elsewhere): the timeline
//! as JSON, and a small script that draws it as SVG — a lane per process, an arrow per
//! message, marks for closes, kills, exits and the time limit. Hover over an arrow for
//! the whole message, click to keep it in the panel; zoom; show only some processes.

use crate::harness::timeline::Timeline;

/// The page for a timeline; `title` names the check (`03 large-diffs`).
pub fn page(timeline: &Timeline, title: &str) -> String {
    // Inside <script>, `</` could end the element: JSON allows `<\/` for it.
    let data = timeline.to_json().replace("</", "<\\/");
    let title = escape(title);
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>timeline: {title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 0; color: #222; }}
header {{ position: sticky; top: 0; background: #f4f4f4; padding: 8px 12px; border-bottom: 1px solid #ccc; z-index: 1; }}
header label {{ margin-right: 12px; }}
#detail {{ font-family: monospace; white-space: pre-wrap; word-break: break-all; margin-top: 6px; min-height: 1.2em; }}
svg text {{ font: 12px monospace; }}
.lane {{ stroke: #999; stroke-dasharray: 4 3; }}
.arrow line {{ stroke: #2a5db0; stroke-width: 1.5; }}
.arrow.dropped line {{ stroke: #b02a2a; stroke-dasharray: 5 3; }}
.arrow:hover line, .arrow.picked line {{ stroke-width: 3; }}
.arrow, .mark {{ cursor: pointer; }}
.limit {{ stroke: #b02a2a; stroke-width: 2; }}
</style></head>
<body>
<header>
<strong>{title}</strong> &middot; <span id="count"></span>
<button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">&minus;</button>
<span id="filters"></span>
<div id="detail">Hover over an arrow or a mark for the whole message; click to keep it here.</div>
</header>
<svg id="diagram" xmlns="http://www.w3.org/2000/svg"></svg>
<script id="timeline" type="application/json">{data}</script>
<script>
"use strict";
const timeline = JSON.parse(document.getElementById("timeline").textContent);
const svg = document.getElementById("diagram");
const detail = document.getElementById("detail");
const NS = "http://www.w3.org/2000/svg";
let row = 22, shown = new Set(timeline.lanes), picked = null;
const lanes = timeline.lanes;
const gap = 260, left = 90, first = 40;
function x(lane) {{ return left + lanes.indexOf(lane) * gap; }}
function el(name, attrs, parent) {{
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  parent.appendChild(e); return e;
}}
function words(e) {{
  switch (e.kind) {{
    case "sent": return (e.shown || e.raw) + (e.forwarded ? "" : " (dropped: the stream was cut)");
    case "started": return "started " + e.command;
    case "closed": return "closed its output (end-of-file)";
    case "cut": return "the verifier cut the stream";
    case "killed": return "killed by the verifier (SIGKILL)";
    case "time_limit": return "at the time limit: " + e.waiting.replace("_", " ") + (e.output_open ? ", output still open" : "");
    case "ended": return e.how;
  }}
  return e.kind;
}}
const MARKS = {{ started: "●", closed: "╳", cut: "✂", killed: "✖", time_limit: "⧗", ended: "■" }};
function full(e) {{
  const head = (e.at_us / 1e6).toFixed(3) + " s  " + e.lane + (e.kind === "sent" ? " → " + e.to : "") + "  ";
  return head + (e.kind === "sent" ? e.raw : words(e));
}}
function draw() {{
  svg.textContent = "";
  const events = timeline.events.filter(e => shown.has(e.lane) && (e.kind !== "sent" || shown.has(e.to)));
  const height = first + (events.length + 1) * row;
  svg.setAttribute("width", left + Math.max(1, lanes.length) * gap);
  svg.setAttribute("height", height);
  lanes.forEach(lane => {{
    if (!shown.has(lane)) return;
    el("line", {{ class: "lane", x1: x(lane), x2: x(lane), y1: first - 8, y2: height }}, svg);
    el("text", {{ x: x(lane), y: 20, "text-anchor": "middle", "font-weight": "bold" }}, svg).textContent = lane;
  }});
  let limitDrawn = false;
  events.forEach((e, i) => {{
    const y = first + (i + 1) * row;
    el("text", {{ x: 4, y: y + 4, fill: "#666" }}, svg).textContent = (e.at_us / 1e6).toFixed(3);
    let g;
    if (e.kind === "sent" && lanes.includes(e.to)) {{
      g = el("g", {{ class: "arrow" + (e.forwarded ? "" : " dropped"), "data-index": timeline.events.indexOf(e) }}, svg);
      const x1 = x(e.lane), x2 = x(e.to), dir = x2 > x1 ? 1 : -1;
      el("line", {{ x1: x1, x2: x2 - dir * 6, y1: y, y2: y }}, g);
      el("path", {{ d: `M${{x2}},${{y}} l${{-dir * 8}},-4 v8 z`, fill: "#2a5db0" }}, g);
      const label = words(e);
      el("text", {{ x: Math.min(x1, x2) + 10, y: y - 4 }}, g).textContent = label.length > 34 ? label.slice(0, 33) + "…" : label;
    }} else {{
      if (e.kind === "time_limit" && !limitDrawn) {{
        limitDrawn = true;
        el("line", {{ class: "limit", x1: left - 20, x2: left + lanes.length * gap, y1: y - row / 2, y2: y - row / 2 }}, svg);
      }}
      g = el("g", {{ class: "mark", "data-index": timeline.events.indexOf(e) }}, svg);
      const lx = lanes.includes(e.lane) ? x(e.lane) : left;
      el("text", {{ x: lx - 6, y: y + 5 }}, g).textContent = MARKS[e.kind] || "•";
      el("text", {{ x: lx + 10, y: y + 4, fill: "#444" }}, g).textContent = words(e);
    }}
    el("title", {{}}, g).textContent = full(e);
    g.addEventListener("mouseenter", () => {{ if (!picked) detail.textContent = full(e); }});
    g.addEventListener("click", () => {{
      document.querySelectorAll(".picked").forEach(p => p.classList.remove("picked"));
      picked = e; g.classList.add("picked"); detail.textContent = full(e);
    }});
  }});
  document.getElementById("count").textContent = events.length + " of " + timeline.events.length + " events";
}}
const filters = document.getElementById("filters");
lanes.forEach(lane => {{
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox"; box.checked = true; box.dataset.lane = lane;
  box.addEventListener("change", () => {{ box.checked ? shown.add(lane) : shown.delete(lane); draw(); }});
  label.appendChild(box); label.append(" " + lane); filters.appendChild(label);
}});
document.getElementById("zoom-in").addEventListener("click", () => {{ row = Math.min(80, row * 1.5); draw(); }});
document.getElementById("zoom-out").addEventListener("click", () => {{ row = Math.max(6, row / 1.5); draw(); }});
draw();
</script>
</body></html>
"##
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::timeline::{Recorder, What};

    #[test]
    fn the_page_is_self_contained_and_cannot_be_broken_out_of() {
        let recorder = Recorder::new(&["A", "B"]);
        recorder.record(
            "A",
            What::Sent {
                to: "B".into(),
                raw: "</script><script>alert(1)</script>".into(),
                shown: None,
                forwarded: true,
            },
        );
        let page = page(&recorder.timeline(), "03 <x>");
        assert!(!page.contains("</script><script>alert"));
        assert!(page.contains("03 &lt;x&gt;"));
        for remote in ["http://", "https://", "src=\"", "href=\""] {
            let outside_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_namespace.contains(remote), "{remote}");
        }
    }
}
