//! The HTML export: a self-contained static site, `index.html` and one page per deck.
//!
//! Every page carries its CSS and JavaScript inline and a Content-Security-Policy that
//! forbids fetching anything, so it works from a USB stick on a projector laptop with
//! no network, and cannot leak that the talk is being given. A deck page shows one
//! slide at a time: arrow keys, Page Up/Down, Space, Home and End move; the URL hash
//! (`#3`) selects a slide. The current slide is exposed as `document.body.dataset.slide`
//! for tests.
//!
//! Speaker notes are never shown on the projected page. `p` (or `n`, or the button)
//! opens the **presenter view** in a second window, the same page with `?presenter`:
//! the current slide with its notes, the next slide, and the time since it opened. The
//! two windows move together, whichever one the presenter drives: each tells the other
//! its slide with `postMessage` (through `window.open`'s handle and `window.opener`),
//! which works between `file://` pages and needs no network, as reveal.js's speaker
//! view does.

use super::Deck;
use anyhow::Context as _;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::fs;
use std::path::{Path, PathBuf};

/// The policy every page carries: inline style and script, and nothing else.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// Writes `index.html` and one page per deck into `dir`, creating it if needed and
/// overwriting files already there. Returns the files written.
pub fn export(decks: &[Deck], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, page: String| -> anyhow::Result<()> {
        let path = dir.join(name);
        fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write("index.html".into(), index_page(decks))?;
    for deck in decks {
        write(page_name(deck), deck_page(deck))?;
    }
    Ok(written)
}

/// The file name of a deck's page: `03-append-only-logs.html`.
pub fn page_name(deck: &Deck) -> String {
    format!("{}.html", deck.stem)
}

pub use crate::text::html_escape as escape;

/// Markdown to HTML. Raw HTML in the source is shown as text, never passed through;
/// links and images keep only their text, so a page refers to nothing outside itself.
pub fn markdown(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(text, options).filter_map(|event| match event {
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented))),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::CodeBlock)),
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { .. } | Tag::Image { .. }) => None,
        Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1a1a1a; --muted: #5f6368; --accent: #0b57d0; --code: #f2f4f7;
  --mono: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
html, body { margin: 0; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: #fff; line-height: 1.4; }
a { color: var(--accent); }
code, pre { font-family: var(--mono); }
code { background: var(--code); padding: 0 .2em; border-radius: .2em; font-size: .92em; }
pre { background: var(--code); padding: .6em .9em; border-radius: .3em; overflow-x: auto; line-height: 1.3;
  font-size: .72em; }
pre code { background: none; padding: 0; font-size: 1em; }
.bar { display: flex; justify-content: space-between; align-items: center; gap: 1em; padding: .5em 1.2em;
  font-size: 16px; color: var(--muted); }
.bar button { font: inherit; color: inherit; background: none; border: 1px solid #c8ccd1; border-radius: .3em;
  padding: .1em .7em; cursor: pointer; }
body.deck { display: flex; flex-direction: column; min-height: 100vh; }
main { flex: 1; }
.slide { padding: 3vh 6vw 4vh; font-size: clamp(20px, 2.5vw, 46px); }
.js .slide { display: none; }
.js .slide.current { display: block; }
.slide h2 { font-size: 1.5em; line-height: 1.15; margin: .1em 0 .6em; color: #111; }
.slide li { margin: .15em 0; }
.slide table { border-collapse: collapse; }
.slide th, .slide td { border: 1px solid #c8ccd1; padding: .2em .5em; }
.demo { display: flex; align-items: baseline; gap: .6em; margin: .8em 0; padding: .4em .8em;
  border-left: .3em solid var(--accent); background: #eef3fd; font-size: .8em; }
.demo .label { font-family: var(--mono); font-size: .7em; font-weight: bold; text-transform: uppercase;
  letter-spacing: .08em; color: #fff; background: var(--accent); border-radius: .2em; padding: .05em .4em; }
.demo code { background: none; }
.notes { display: none; margin-top: 1.5em; padding: .6em 1em; border: 1px solid #e6cf7a; background: #fff8df;
  border-radius: .3em; font-size: .8em; }
.notes h3 { margin: 0; font-size: .8em; text-transform: uppercase; letter-spacing: .08em; color: #8a6d00; }
.role { display: none; }
body.presenter .role { display: inline; font-weight: 600; color: #8a6d00; }
body.presenter main { display: grid; grid-template-columns: 3fr 2fr; align-items: start; gap: 1.2em;
  padding: 1em 1.5em; }
body.presenter .slide { font-size: clamp(12px, 1.3vw, 24px); padding: .8em 1.2em; border: 1px solid #c8ccd1;
  border-radius: .4em; }
body.presenter .slide.current { grid-column: 1; grid-row: 1; }
body.presenter .slide.current .notes { display: block; }
.js body.presenter .slide.next { display: block; grid-column: 2; grid-row: 1; opacity: .75;
  font-size: clamp(10px, .9vw, 18px); }
body.presenter .slide.next::before { content: "Next"; display: block; font-size: .8em; font-weight: 600;
  text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin-bottom: .4em; }
#timer { display: none; font-variant-numeric: tabular-nums; }
body.presenter #timer { display: inline; }
.index { max-width: 60em; margin: 0 auto; padding: 2em 1.5em; font-size: 20px; }
.index ol { list-style: none; padding: 0; }
.index li { margin: 0 0 1.1em; }
.index .title { font-size: 1.25em; font-weight: 600; }
.index .meta { color: var(--muted); }
@media print {
  .bar { display: none; }
  .js .slide { display: block; page-break-after: always; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var slides = Array.prototype.slice.call(document.querySelectorAll('section.slide'));
  var total = slides.length;
  var progress = document.getElementById('progress');
  var current = 1;
  var TAG = 'replicate-slides';
  // The presenter view is this page with ?presenter, opened by the projected one.
  var presenter = /(^|[?&])presenter(&|=|$)/.test(location.search.slice(1));
  var peer = presenter ? window.opener : null;
  document.documentElement.classList.add('js');
  document.body.classList.toggle('presenter', presenter);
  document.body.dataset.role = presenter ? 'presenter' : 'audience';
  function clamp(n) { return Math.min(Math.max(n, 1), total); }
  function fromHash() {
    var m = /^#(\d+)$/.exec(location.hash);
    return m ? clamp(parseInt(m[1], 10)) : 1;
  }
  // Tells the other window which slide is shown.
  function tell() {
    if (!peer || peer.closed) { return; }
    try { peer.postMessage({ kind: TAG, slide: current }, '*'); } catch (e) { /* it went away */ }
  }
  // Shows slide n; `quiet` when the other window asked, so that nothing echoes back.
  function show(n, quiet) {
    var changed = clamp(n) !== current || document.body.dataset.slide !== String(clamp(n));
    current = clamp(n);
    slides.forEach(function (slide, i) {
      slide.classList.toggle('current', i + 1 === current);
      slide.classList.toggle('next', i + 1 === current + 1);
    });
    document.body.dataset.slide = String(current);
    progress.textContent = current + ' / ' + total;
    if (location.hash !== '#' + current) {
      try { history.replaceState(null, '', '#' + current); } catch (e) { location.hash = '#' + current; }
    }
    if (changed && !quiet) { tell(); }
  }
  function openPresenter() {
    if (presenter) { return; }
    if (peer && !peer.closed) { peer.focus(); tell(); return; }
    var url = location.href.split('#')[0].split('?')[0] + '?presenter#' + current;
    peer = window.open(url, 'presenter-' + location.pathname, 'width=1200,height=760');
    document.body.dataset.presenter = peer ? 'open' : 'blocked';
  }
  window.addEventListener('message', function (e) {
    var data = e.data;
    if (!data || data.kind !== TAG || typeof data.slide !== 'number') { return; }
    // A projected page that was reloaded learns its presenter from the first message.
    if (!presenter && (!peer || peer.closed)) { peer = e.source; }
    if (e.source !== peer) { return; }
    show(data.slide, true);
  });
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey) { return; }
    switch (e.key) {
      case 'ArrowRight': case 'PageDown': show(current + 1); break;
      case ' ': case 'Spacebar': show(e.shiftKey ? current - 1 : current + 1); break;
      case 'ArrowLeft': case 'PageUp': show(current - 1); break;
      case 'Home': show(1); break;
      case 'End': show(total); break;
      case 'p': case 'P': case 'n': case 'N': openPresenter(); break;
      default: return;
    }
    e.preventDefault();
  });
  document.getElementById('previous').addEventListener('click', function () { show(current - 1); });
  document.getElementById('next').addEventListener('click', function () { show(current + 1); });
  var button = document.getElementById('present');
  if (presenter) { button.hidden = true; } else { button.addEventListener('click', openPresenter); }
  window.addEventListener('hashchange', function () { show(fromHash()); });
  if (presenter) {
    var timer = document.getElementById('timer');
    var started = Date.now();
    var tick = function () {
      var s = Math.floor((Date.now() - started) / 1000);
      timer.textContent = Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
    };
    tick();
    setInterval(tick, 1000);
  }
  show(fromHash(), true);
  // The presenter view opens on the projected page's slide; say so, in case it moved.
  if (presenter) { tell(); }
})();
"#;

/// The start of every page, up to and including `<body …>`.
fn head(title: &str, body_attributes: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body{body_attributes}>\n",
        escape(title)
    )
}

/// The page that lists the decks and links to each.
pub fn index_page(decks: &[Deck]) -> String {
    let mut page = head("Slide decks", "");
    page.push_str("<div class=\"index\">\n<h1>Slide decks</h1>\n<ol>\n");
    for deck in decks {
        let number = deck.number.map(|n| format!("{n:02} · ")).unwrap_or_default();
        page.push_str(&format!(
            "<li><a class=\"title\" href=\"{}\">{}{}</a><br>\n<span class=\"summary\">{}</span> \
             <span class=\"meta\">({} slides)</span></li>\n",
            escape(&page_name(deck)),
            escape(&number),
            escape(&deck.title),
            escape(&deck.summary),
            deck.slides.len()
        ));
    }
    page.push_str(
        "</ol>\n<p class=\"meta\">In a deck: → or Space next, ← previous, Home and End; \
         p opens the presenter view (notes, next slide) in a second window.</p>\n</div>\n</body>\n</html>\n",
    );
    page
}

/// One deck's page: every slide as a section, one shown at a time.
pub fn deck_page(deck: &Deck) -> String {
    let total = deck.slides.len();
    let mut page = head(&deck.title, " class=\"deck\" data-slide=\"1\"");
    page.push_str(&format!(
        "<header class=\"bar\"><a href=\"index.html\">All decks</a><span class=\"role\">Presenter view</span>\
         <span class=\"deck-title\">{}</span></header>\n<main>\n",
        escape(&deck.title)
    ));
    for (i, slide) in deck.slides.iter().enumerate() {
        let number = i + 1;
        let current = if number == 1 { " current" } else { "" };
        page.push_str(&format!(
            "<section class=\"slide{current}\" id=\"slide-{number}\" data-index=\"{number}\">\n<h2>{}</h2>\n",
            escape(&slide.title)
        ));
        page.push_str(&markdown(&slide.body));
        if let Some(command) = &slide.demo {
            page.push_str(&format!(
                "<div class=\"demo\"><span class=\"label\">demo</span><code>{}</code></div>\n",
                escape(command)
            ));
        }
        if !slide.notes.is_empty() {
            page.push_str("<aside class=\"notes\">\n<h3>Notes</h3>\n");
            page.push_str(&markdown(&slide.notes));
            page.push_str("</aside>\n");
        }
        page.push_str("</section>\n");
    }
    page.push_str(&format!(
        "</main>\n<footer class=\"bar\"><span>\
         <button id=\"previous\" type=\"button\" title=\"Previous (←)\">‹</button> \
         <button id=\"next\" type=\"button\" title=\"Next (→)\">›</button> \
         <button id=\"present\" type=\"button\" title=\"Presenter view: notes and the next slide (p)\">presenter view</button></span>\
         <span><span id=\"timer\"></span> <span id=\"progress\">1 / {total}</span></span></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    ));
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_and_refers_to_nothing() {
        let html = markdown(
            "a <b>bold</b> & `x<y`\n\n<script>alert(1)</script>\n\n[link](https://example.org) ![img](http://x/y.png)\n",
        );
        assert!(!html.contains("<b>") && !html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; <code>x&lt;y</code>"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("http"), "{html}");
        assert!(html.contains("link"), "{html}");
        assert_eq!(
            markdown("```\n  a --- b\n```\n"),
            "<pre><code>  a --- b\n</code></pre>\n"
        );
    }

    #[test]
    fn pages_are_self_contained() {
        let deck = super::super::parse(
            Path::new("05-x.md"),
            "# A <deck>\nsum & more\n---\n## One \"1\"\nbody\nDemo: echo '<hi>'\nNotes:\nsay\n---\n## Two\n",
        )
        .unwrap();
        let page = deck_page(&deck);
        assert!(page.contains(CSP));
        assert!(page.contains("<title>A &lt;deck&gt;</title>"));
        assert!(page.contains("<h2>One &quot;1&quot;</h2>"));
        assert!(page.contains("<span class=\"label\">demo</span><code>echo &#39;&lt;hi&gt;&#39;</code>"));
        assert!(page.contains("<span id=\"progress\">1 / 2</span>"));
        assert!(!page.contains("src=") && !page.contains("http:") && !page.contains("https:"));
        let index = index_page(&[deck]);
        assert!(
            index.contains("href=\"05-x.html\">05 · A &lt;deck&gt;</a>"),
            "{index}"
        );
        assert!(index.contains("sum &amp; more"));
    }
}
