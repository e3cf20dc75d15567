/**
 * The look shared by `h13 analyze --html` and `h13 drain`'s pages: one stylesheet and one
 * palette, so the two never drift apart. Plain CSS with no url() and no imports: the report
 * inlines it, the drain serves it as a file under a Content-Security-Policy.
 */

/** Series colours, in order (codes of a chart take them in turn). */
export const PALETTE = [
  '#d62728',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#1f77b4',
  '#bcbd22',
  '#17becf',
  '#7f7f7f',
  '#2ca02c',
] as const;

export const REPORT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h3{font-size:1.1em;margin-bottom:.3em}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
.num{text-align:right}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
.router{color:#b00}.cause{border-left:4px solid #d62728;padding-left:1em;margin:1.2em 0}.noise{border-color:#aaa;color:#555}
.count{background:#eee;border-radius:8px;padding:0 8px;font-size:.9em}.fix{color:#064}.axis{font-size:11px;fill:#555}
.legend .key{margin-right:1em;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.legend i.dash{width:14px;height:0;border-top:2px dashed}svg{width:100%;height:auto;border:1px solid #eee}
`;
