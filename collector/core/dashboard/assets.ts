/**
 * The dashboard's stylesheet and script, served from routes (`/assets/dashboard.css`, `/assets/dashboard.js`) so the
 * Content-Security-Policy can forbid every inline style and script. Kept as strings so Node and Workers serve them
 * without asset plumbing.
 */

export const DASHBOARD_CSS = `
:root {
  --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --muted: #667085; --faint: #98a2b3; --line: #e4e7ec;
  --accent: #4f46e5; --accent-soft: #eef0ff; --good: #12875a; --good-soft: #e3f6ec; --ni: #b7791f; --ni-soft: #fdf3dc;
  --poor: #c93a3a; --poor-soft: #fde8e8; --back: #e2772d;
  --radius: 10px; --shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; min-height: 100vh; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 20px; margin: 0 0 4px; font-weight: 650; letter-spacing: -.01em; }
h2 { font-size: 15px; margin: 0 0 10px; font-weight: 650; }
h3 { font-size: 12px; margin: 14px 0 6px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
p { margin: 0 0 8px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.nowrap { white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }

/* Top bar */
.top { background: #151a2d; color: #fff; }
.top-inner { max-width: 1360px; margin: 0 auto; padding: 10px 20px; display: flex; gap: 14px; align-items: center; flex-wrap: wrap; }
.brand { font-weight: 750; font-size: 17px; color: #fff; letter-spacing: -.02em; display: flex; align-items: center; gap: 8px; }
.brand:hover { text-decoration: none; }
.brand svg { display: block; }
.site-pick select { background: #232a44; color: #fff; border: 1px solid #39416a; border-radius: 8px; padding: 5px 8px; font: inherit; }
.nav { display: flex; gap: 4px; flex-wrap: wrap; }
.nav a { color: #c7cbe0; padding: 6px 11px; border-radius: 8px; font-weight: 500; }
.nav a:hover { background: #232a44; color: #fff; text-decoration: none; }
.nav a[aria-current="page"] { background: #fff; color: #151a2d; }
.top .spacer { flex: 1; }
.signout button { background: none; border: 1px solid #39416a; color: #c7cbe0; border-radius: 8px; padding: 5px 10px; font: inherit; cursor: pointer; }
.signout button:hover { color: #fff; border-color: #6b74a8; }

main { max-width: 1360px; margin: 0 auto; padding: 18px 20px 40px; }
.page-head { display: flex; gap: 12px 20px; align-items: flex-end; justify-content: space-between; flex-wrap: wrap; margin-bottom: 14px; }
.page-head p { margin: 0; }

/* Range picker */
.range { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.chips { display: inline-flex; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.chips a { padding: 5px 10px; color: var(--ink); border-right: 1px solid var(--line); }
.chips a:last-child { border-right: 0; }
.chips a:hover { background: var(--bg); text-decoration: none; }
.chips a[aria-current="true"] { background: var(--accent); color: #fff; }
.range form { display: inline-flex; gap: 4px; align-items: center; }

input, select, textarea, button { font: inherit; color: inherit; }
input[type=text], input[type=search], input[type=date], input[type=password], input[type=number], select, textarea {
  border: 1px solid var(--line); background: #fff; border-radius: 8px; padding: 6px 9px; min-width: 0;
}
textarea { width: 100%; resize: vertical; }
input:focus, select:focus, textarea:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
.btn { display: inline-block; border: 1px solid var(--line); background: #fff; border-radius: 8px; padding: 6px 12px; cursor: pointer; color: var(--ink); font-weight: 500; }
.btn:hover { background: var(--bg); text-decoration: none; }
.btn.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.btn.primary:hover { background: #4338ca; }
.btn.danger { background: #fff; border-color: #f3b4b4; color: var(--poor); }
.btn.danger:hover { background: var(--poor-soft); }

.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); padding: 16px; margin-bottom: 16px; }
.card > h2:first-child { margin-top: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 14px; box-shadow: var(--shadow); }
.kpi .v { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; letter-spacing: -.02em; }
.kpi .l { color: var(--muted); font-size: 12px; }
.empty { text-align: center; padding: 40px 16px; color: var(--muted); }
.empty code { background: var(--bg); padding: 2px 6px; border-radius: 6px; color: var(--ink); }
.flash { background: var(--good-soft); border: 1px solid #b7e4cb; color: #0b5e3e; padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; }
.error { background: var(--poor-soft); border: 1px solid #f3b4b4; color: #8f1f1f; padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; }

/* Tables */
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
th[scope=row] { color: var(--ink); font-size: 13px; }
tbody tr:hover { background: #fafbfc; }
td.id a { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }

.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; background: var(--bg); border: 1px solid var(--line); white-space: nowrap; }
.badge.good { background: var(--good-soft); border-color: #b7e4cb; color: #0b5e3e; }
.badge.ni { background: var(--ni-soft); border-color: #f1d59b; color: #7a5312; }
.badge.poor { background: var(--poor-soft); border-color: #f3b4b4; color: #8f1f1f; }
.badge.accent { background: var(--accent-soft); border-color: #c9cdfb; color: #3730a3; }
.badge.stage { background: var(--accent-soft); border-color: #c9cdfb; color: #3730a3; }

/* Filters */
.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; }
.filters label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
.filters .grow { flex: 1 1 200px; }
.filters .grow input { width: 100%; }
.pager { display: flex; justify-content: space-between; align-items: center; margin-top: 12px; gap: 8px; }

/* Journey map */
.map-wrap { overflow-x: auto; padding: 0; }
.map { display: grid; grid-template-columns: repeat(var(--n, 5), minmax(200px, 1fr)); min-width: 0; }
.map.n1 { --n: 1; } .map.n2 { --n: 2; } .map.n3 { --n: 3; } .map.n4 { --n: 4; } .map.n5 { --n: 5; } .map.n6 { --n: 6; }
.map.n7 { --n: 7; } .map.n8 { --n: 8; } .map.n9 { --n: 9; } .map.n10 { --n: 10; } .map.n11 { --n: 11; } .map.n12 { --n: 12; }
.map.n13 { --n: 13; } .map.n14 { --n: 14; } .map.n15 { --n: 15; } .map.n16 { --n: 16; } .map.n17 { --n: 17; } .map.n18 { --n: 18; }
.map.n19 { --n: 19; } .map.n20 { --n: 20; }
.map > .cell { padding: 10px 12px; border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); min-width: 0; }
.map > .cell.last { border-right: 0; }
.map > .rowlabel span { position: sticky; left: 12px; }
.map > .rowlabel { grid-column: 1 / -1; padding: 8px 12px 6px; background: #fafbfc; border-bottom: 1px solid var(--line); font-size: 11.5px; font-weight: 650; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.map > .full { grid-column: 1 / -1; border-bottom: 1px solid var(--line); }
.stage-head { background: linear-gradient(180deg, #f3f4ff, #fff); }
.stage-head .name { font-weight: 700; font-size: 15px; display: flex; align-items: center; gap: 6px; }
.stage-head .name .idx { display: inline-grid; place-items: center; width: 20px; height: 20px; border-radius: 50%; background: var(--accent); color: #fff; font-size: 11px; }
.stage-head .big { font-size: 26px; font-weight: 750; letter-spacing: -.02em; font-variant-numeric: tabular-nums; margin-top: 4px; }
.stage-head .sub { color: var(--muted); font-size: 12px; }
.conv { display: flex; align-items: center; gap: 6px; font-weight: 600; }
.conv .arrow { color: var(--faint); }
.bar { display: block; width: 100%; height: 6px; margin-top: 5px; }
.bar .track { fill: var(--line); }
.bar .fill { fill: var(--accent); }
.bar .fill.good { fill: var(--good); }
.bar .fill.back { fill: var(--back); }
.toplist { list-style: none; padding: 0; margin: 0; }
.toplist li { display: flex; justify-content: space-between; gap: 8px; padding: 2px 0; font-size: 12.5px; }
.toplist li .k { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.toplist li .c { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.toplist .kind { display: inline-block; width: 14px; color: var(--faint); font-size: 11px; }
.chan-row { font-size: 12.5px; margin-bottom: 5px; }
.chan-row .ch { display: flex; justify-content: space-between; color: var(--ink); }
.vitals { display: flex; flex-wrap: wrap; gap: 4px; }
.pain { font-size: 12.5px; }
.pain .n { font-weight: 700; color: var(--poor); font-variant-numeric: tabular-nums; }
.pain div { margin-bottom: 3px; }
.emotion { display: block; width: 100%; height: 140px; }
.emotion .axis { stroke: var(--line); stroke-dasharray: 3 4; }
.emotion .line { stroke: var(--accent); stroke-width: 2.5; fill: none; }
.emotion .dot { stroke: #fff; stroke-width: 2; }
.emotion .dot.good { fill: var(--good); } .emotion .dot.ni { fill: var(--ni); } .emotion .dot.poor { fill: var(--poor); }
.emotion text { font-size: 12px; fill: var(--ink); font-weight: 600; }
.emotion text.lab { fill: var(--faint); font-weight: 400; font-size: 11px; }
.emotion text.none { fill: var(--faint); font-weight: 400; }

/* Funnel */
.funnel-row { display: grid; grid-template-columns: 130px 1fr 150px; gap: 10px; align-items: center; padding: 6px 0; border-bottom: 1px dashed var(--line); }
.funnel-row:last-child { border-bottom: 0; }
.funnel-row .name { font-weight: 600; }
.funnel-row svg { display: block; width: 100%; height: 26px; }
.funnel-row .fill { fill: var(--accent); }
.funnel-row .track { fill: var(--accent-soft); }
.funnel-row .label { font-size: 12px; fill: #fff; font-weight: 600; }
.funnel-row .stat { font-size: 12.5px; text-align: right; }
.funnel-row .drop { color: var(--poor); }
.flow { display: block; width: 100%; height: auto; }
.flow .node { fill: #fff; stroke: var(--accent); stroke-width: 1.5; }
.flow .node-label { font-size: 13px; font-weight: 650; fill: var(--ink); }
.flow .node-count { font-size: 12px; fill: var(--muted); }
.flow .fwd { fill: none; stroke: var(--accent); stroke-opacity: .45; }
.flow .skip { fill: none; stroke: #8b5cf6; stroke-opacity: .35; }
.flow .back { fill: none; stroke: var(--back); stroke-opacity: .55; }
.flow .elabel { font-size: 11.5px; fill: var(--ink); font-weight: 600; }
.flow .elabel.back { fill: #a4501a; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 18px; height: 4px; border-radius: 2px; vertical-align: middle; margin-right: 5px; }
.legend .fwd { background: var(--accent); opacity: .6; } .legend .skip { background: #8b5cf6; opacity: .6; } .legend .back { background: var(--back); }
.hist { display: block; width: 100%; height: auto; max-height: 240px; }
.hist .hbar { fill: var(--accent); }
.hist .hcount { font-size: 12px; fill: var(--ink); font-weight: 600; }
.hist .hlabel { font-size: 12px; fill: var(--muted); }
.heat td.h { text-align: center; font-variant-numeric: tabular-nums; }
.heat td.h0 { color: var(--faint); }
.heat td.h1 { background: #eef0ff; } .heat td.h2 { background: #d9dcfd; } .heat td.h3 { background: #b8bdfa; }
.heat td.h4 { background: #8e95f3; color: #fff; } .heat td.h5 { background: #5b5fe0; color: #fff; }

/* Timeline */
.tl-head { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; }
.stage-strip { display: flex; gap: 4px; flex-wrap: wrap; margin: 10px 0 14px; }
h1.mono { font-size: 17px; }
.stage-strip .s { padding: 3px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); color: var(--faint); }
.stage-strip .s.reached { background: var(--accent-soft); border-color: #c9cdfb; color: #3730a3; }
.stage-strip .s.current { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
.session { margin: 18px 0 0; }
.session-head { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: baseline; padding: 8px 12px; background: #fff; border: 1px solid var(--line); border-radius: 10px 10px 0 0; }
.session-head strong { font-size: 14px; }
.events { list-style: none; margin: 0; padding: 6px 0 6px; background: #fff; border: 1px solid var(--line); border-top: 0; border-radius: 0 0 10px 10px; }
.ev { display: grid; grid-template-columns: 74px 18px 1fr; gap: 0 10px; padding: 5px 12px; position: relative; }
.ev .t { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; padding-top: 1px; }
.ev .dot { width: 10px; height: 10px; border-radius: 50%; margin: 5px auto 0; background: var(--faint); position: relative; z-index: 1; }
.ev::before { content: ""; position: absolute; left: 104px; top: 0; bottom: 0; width: 2px; background: var(--line); }
.ev.page .dot { background: #3b82f6; } .ev.event .dot { background: #8b5cf6; } .ev.vital .dot { background: #14b8a6; }
.ev.feedback .dot { background: #f59e0b; } .ev.identify .dot { background: #0ea5e9; } .ev.stage .dot { background: var(--accent); }
.ev .body { min-width: 0; overflow-wrap: anywhere; }
.ev .what { font-weight: 600; }
.ev .kind { color: var(--muted); font-size: 12px; margin-right: 4px; }
.props { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 3px; }
.props span { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; font-size: 12px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.band { margin: 4px 0; padding: 6px 12px 6px 12px; background: linear-gradient(90deg, var(--accent-soft), #fff); border-left: 4px solid var(--accent); font-weight: 600; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.band.back { background: linear-gradient(90deg, #fff1e6, #fff); border-left-color: var(--back); }
.band .muted { font-weight: 400; }
.danger-zone { border-color: #f3b4b4; margin-top: 18px; }
.vgroup { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 3px; }
.vgroup > .muted.small:first-child { min-width: 90px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; overflow-wrap: anywhere; }

/* Settings */
.stage-edit { display: grid; grid-template-columns: 150px 1fr 1fr 36px; gap: 8px; align-items: start; padding: 8px 0; border-bottom: 1px dashed var(--line); }
.stage-edit textarea { min-height: 40px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.stage-edit .hdr { font-size: 12px; color: var(--muted); font-weight: 600; }
.form-row { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; }
.form-row label { font-weight: 600; font-size: 13px; }
.form-row .hint { color: var(--muted); font-size: 12px; }
pre.snippet { background: #151a2d; color: #e6e8f5; padding: 12px 14px; border-radius: 8px; white-space: pre-wrap; word-break: break-all; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 12px; padding: 8px 12px 10px; }
legend { font-size: 12px; color: var(--muted); font-weight: 600; padding: 0 4px; }
.checks { display: flex; flex-wrap: wrap; gap: 4px 14px; }
label.check { display: inline-flex; gap: 5px; align-items: center; font-weight: 400; }
.lbl { font-size: 12px; color: var(--muted); }
.rule-new { margin: 12px 0; }
.rule-new > summary { list-style: none; display: inline-block; }
.rule-new > summary::-webkit-details-marker { display: none; }
.rule-form { margin-top: 12px; max-width: 720px; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }

/* Sign-in */
.login { max-width: 380px; margin: 12vh auto 0; }
.login .card { padding: 24px; }
.login input { width: 100%; margin: 6px 0 12px; }
.login .brand { color: var(--ink); margin-bottom: 14px; font-size: 22px; }

@media (max-width: 720px) {
  .top-inner { padding: 8px 12px; gap: 8px; }
  .nav { order: 3; width: 100%; overflow-x: auto; flex-wrap: nowrap; }
  .nav a { white-space: nowrap; padding: 5px 9px; }
  main { padding: 12px 12px 30px; }
  .map { grid-template-columns: repeat(var(--n, 5), minmax(172px, 1fr)); }
  .funnel-row { grid-template-columns: 90px 1fr; }
  .funnel-row .stat { grid-column: 1 / -1; text-align: left; }
  .stage-edit { grid-template-columns: 1fr; }
  .stage-edit .hdr { display: none; }
  .hide-sm { display: none; }
  .top .spacer { display: none; }
  table.cards thead { display: none; }
  table.cards, table.cards tbody { display: block; }
  table.cards tr { display: grid; grid-template-columns: 1fr auto; gap: 3px 10px; padding: 10px 2px; border-bottom: 1px solid var(--line); }
  table.cards td { border: 0; padding: 0; }
  table.cards td.num { text-align: left; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: 12px; }
  table.cards td.hide-sm { display: none; }
  .ev { grid-template-columns: 60px 14px 1fr; gap: 0 8px; padding: 5px 8px; }
  .ev::before { left: 81px; }
  .kpi .v { font-size: 19px; }
}
`;

/**
 * Progressive enhancement only: the pages work without it. Auto-submits filter selects, asks for confirmation
 * before destructive forms, copies the tag snippet. No inline handlers anywhere: listeners are attached here.
 */
export const DASHBOARD_JS = `
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (t && t.matches && t.matches('[data-autosubmit]') && t.form) t.form.requestSubmit ? t.form.requestSubmit() : t.form.submit();
  });
  document.addEventListener('submit', function (e) {
    var f = e.target;
    var msg = f && f.getAttribute && f.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  document.addEventListener('click', function (e) {
    var t = e.target && e.target.closest ? e.target.closest('[data-copy]') : null;
    if (t) {
      var src = document.getElementById(t.getAttribute('data-copy'));
      if (src && navigator.clipboard) {
        navigator.clipboard.writeText(src.textContent || '').then(function () {
          var was = t.textContent; t.textContent = 'Copied'; setTimeout(function () { t.textContent = was; }, 1500);
        });
      }
    }
    var add = e.target && e.target.closest ? e.target.closest('[data-add-stage]') : null;
    if (add) {
      var tpl = document.getElementById('stage-template');
      var list = document.getElementById('stage-list');
      if (tpl && list && tpl.content) list.appendChild(tpl.content.cloneNode(true));
    }
    var rm = e.target && e.target.closest ? e.target.closest('[data-remove-stage]') : null;
    if (rm) { var row = rm.closest('.stage-edit'); if (row) row.remove(); }
  });
  // The rule form shows only the fields of the chosen trigger.
  var when = document.querySelector('[data-when-select]');
  var showWhen = function () {
    var sets = document.querySelectorAll('fieldset[data-when]');
    for (var i = 0; i < sets.length; i++) sets[i].hidden = sets[i].getAttribute('data-when') !== when.value;
  };
  if (when) { when.addEventListener('change', showWhen); showWhen(); }
  var sel = document.querySelector('.site-pick select');
  if (sel) { var b = document.querySelector('.site-pick button'); if (b) b.hidden = true; }
})();
`;

/** The dashboard's icon (the logo), so browsers do not ask for a missing /favicon.ico. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="#151a2d"/><path d="M5 17 L12 10 L19 6" stroke="#8b93ff" stroke-width="2" fill="none"/><circle cx="5" cy="17" r="2.6" fill="#8b93ff"/><circle cx="12" cy="10" r="2.6" fill="#a5abff"/><circle cx="19" cy="6" r="2.6" fill="#fff"/></svg>`;

/** FNV-1a of a string, for cache-busting asset URLs. */
const fnv = (s: string) => {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x.toString(36);
};
export const CSS_PATH = '/assets/dashboard.css';
export const JS_PATH = '/assets/dashboard.js';
export const CSS_VERSION = fnv(DASHBOARD_CSS);
export const JS_VERSION = fnv(DASHBOARD_JS);
/** Versioned URLs of the stylesheet and script: cached for a year, a new deploy changes the version. */
export const CSS_HREF = `${CSS_PATH}?v=${CSS_VERSION}`;
export const JS_HREF = `${JS_PATH}?v=${JS_VERSION}`;
