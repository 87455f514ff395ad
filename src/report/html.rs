//! `report.html`: one self-contained page for people. Charts are SVG drawn here; the findings
//! table is data embedded in the page with a small script that filters, sorts and pages it.
//! No network at view time: a Content-Security-Policy forbids every fetch.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use super::rows::FindingRow;
use super::summary::Summary;

/// What the page needs of the rows, gathered as they are written.
#[derive(Debug, Default)]
pub struct HtmlReport {
    /// The table's rows as one JSON array's elements, comma-separated (a row is ~250 bytes
    /// here against several times that as `Value`s).
    rows: String,
    count: usize,
    per_day: BTreeMap<String, u64>,
    resources: BTreeMap<String, u64>,
    resolved_by: BTreeMap<String, u64>,
}

impl HtmlReport {
    pub fn push(&mut self, row: &FindingRow) {
        let day = row
            .event_time
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "unknown".into());
        *self.per_day.entry(day).or_default() += 1;
        if let Some(r) = row.resource_arn.as_deref() {
            *self.resources.entry(r.to_string()).or_default() += 1;
        }
        if let Some(v) = row.resolved_via.as_deref() {
            *self.resolved_by.entry(v.to_string()).or_default() += 1;
        }
        let row = json!([
            row.event_time
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            row.kind.as_str(),
            row.principal_arn.as_deref().unwrap_or(""),
            row.principal_product.as_deref().unwrap_or(""),
            row.resource_arn.as_deref().unwrap_or(""),
            row.resource_product.as_deref().unwrap_or(""),
            row.account_id.as_deref().unwrap_or(""),
            &*row.event_source,
            &*row.event_name,
            row.denied,
        ]);
        if self.count > 0 {
            self.rows.push(',');
        }
        // `</` inside a script ends it: JSON never needs the slash escaped, so escape it here,
        // row by row, rather than copying the whole table when the page is written.
        self.rows.push_str(&row.to_string().replace("</", "<\\/"));
        self.count += 1;
    }

    /// The page.
    pub fn render(&self, summary: &Summary) -> String {
        let mut page = String::with_capacity(64 * 1024 + self.rows.len());
        page.push_str(HEAD);
        let records = &summary.records;
        let total: u64 = summary.findings.values().sum();
        let _ = write!(
            page,
            "<header><h1>tagtrail report</h1><p class=meta>tagtrail {} · tag key <b>{}</b> · \
             {} finding(s) · {} denied attempt(s)</p></header>",
            summary.version,
            esc(&summary.tag_key),
            total,
            summary.denied_attempts
        );
        integrity(&mut page, summary);
        page.push_str("<section class=grid>");
        let buckets = [
            ("resolved", records.resolved),
            ("unresolved", records.unresolved),
            ("skipped", records.skipped),
            ("rejected", records.rejected),
        ];
        card(
            &mut page,
            &format!("Records read: {}", records.read),
            &bars(&buckets.map(|(k, v)| (k.to_string(), v)), "records"),
        );
        card(
            &mut page,
            "Findings by kind",
            &bars(&entries(&summary.findings), "kind"),
        );
        card(
            &mut page,
            "Findings per day",
            &columns(&entries(&self.per_day)),
        );
        card(
            &mut page,
            "Product pairs (product-mismatch)",
            &matrix(summary),
        );
        let principals: Vec<(String, u64)> = summary
            .top_principals
            .iter()
            .map(|p| (p.principal_arn.clone(), p.findings))
            .collect();
        card(
            &mut page,
            "Top principals",
            &ranking(&principals, "principal"),
        );
        card(
            &mut page,
            "Top resources",
            &ranking(&top(&self.resources, 10), "resource"),
        );
        card(
            &mut page,
            "Unresolved records, why",
            &ranking(&entries(&summary.unresolved_by_reason), ""),
        );
        let mut left_out: Vec<(String, u64)> = summary
            .skipped_by_reason
            .iter()
            .map(|(k, v)| (format!("skipped: {k}"), *v))
            .collect();
        left_out.extend(
            summary
                .rejected
                .iter()
                .map(|p| (format!("rejected: {}: {}", p.source, p.reason), 1)),
        );
        card(
            &mut page,
            "Records skipped or rejected",
            &ranking(&left_out, ""),
        );
        card(
            &mut page,
            "How the findings' resources were found",
            &ranking(&top(&self.resolved_by, 10), ""),
        );
        page.push_str("</section>");
        page.push_str(TABLE);
        let _ = write!(
            page,
            "<script type=\"application/json\" id=data>[{}]</script>",
            self.rows
        );
        page.push_str(SCRIPT);
        page.push_str("</body></html>\n");
        page
    }
}

/// (key, count) pairs in key order.
fn entries(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// The `n` largest counts, largest first.
fn top(counts: &BTreeMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut all = entries(counts);
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A link that filters the findings table (`#kind=…&principal=…`).
fn filter_link(key: &str, value: &str, text: &str) -> String {
    if key.is_empty() {
        return esc(text);
    }
    format!(
        "<a href=\"#{key}={}\">{}</a>",
        esc(&urlencode(value)),
        esc(text)
    )
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A clear block at the top when the trail read is not what CloudTrail's digests vouch for;
/// one line when it is.
fn integrity(page: &mut String, summary: &Summary) {
    let Some(integrity) = &summary.integrity else {
        return;
    };
    if !integrity.failed() {
        let _ = write!(
            page,
            "<p class=meta>Integrity: {} log file(s) verified against {} CloudTrail digest file(s); \
             {} signature(s) verified, {} not verifiable here{}.</p>",
            integrity.log_files_verified,
            integrity.digests,
            integrity.signatures_verified,
            integrity.signatures_not_verifiable,
            esc(&integrity
                .public_keys_unavailable
                .iter()
                .map(|why| format!(" ({why})"))
                .collect::<String>())
        );
        return;
    }
    let _ = write!(
        page,
        "<section class=integrity role=alert><h2>Integrity check failed</h2><p>The trail read is \
         not what CloudTrail's digest files vouch for: findings from it may be incomplete or \
         forged.</p><ul>"
    );
    for (what, fault) in integrity.faults() {
        let _ = write!(
            page,
            "<li><b>{}</b>: <code>{}</code>: {}</li>",
            esc(what),
            esc(&fault.object),
            esc(&fault.detail)
        );
    }
    page.push_str("</ul></section>");
}

fn card(page: &mut String, title: &str, body: &str) {
    let _ = write!(page, "<div class=card><h2>{}</h2>{body}</div>", esc(title));
}

/// Horizontal bars, one per (label, count); labels link to the table filtered on `key`.
fn bars(items: &[(String, u64)], key: &str) -> String {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = 22 * items.len().max(1) + 4;
    let mut svg =
        format!("<svg class=chart viewBox=\"0 0 420 {height}\" role=img aria-label=\"bar chart\">");
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 4 + 22 * i;
        let width = (220.0 * *value as f64 / max as f64).round() as u64;
        let _ = write!(
            svg,
            "<text x=0 y={} class=label>{}</text><rect x=170 y={y} width={width} height=16 class=bar>\
             <title>{} {}</title></rect><text x={} y={} class=value>{value}</text>",
            y + 12,
            esc(label),
            esc(label),
            value,
            176 + width,
            y + 12,
        );
    }
    svg.push_str("</svg>");
    if key == "kind" {
        let links: Vec<String> = items
            .iter()
            .map(|(k, _)| filter_link("kind", k, k))
            .collect();
        let _ = write!(svg, "<p class=links>{}</p>", links.join(" · "));
    }
    svg
}

/// Vertical bars over time.
fn columns(items: &[(String, u64)]) -> String {
    if items.is_empty() {
        return "<p>no findings</p>".into();
    }
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1);
    let step = (400 / items.len()).clamp(2, 40);
    let width = 420;
    let mut svg = format!(
        "<svg class=chart viewBox=\"0 0 {width} 150\" role=img aria-label=\"findings per day\">"
    );
    for (i, (day, value)) in items.iter().enumerate() {
        let h = (110.0 * *value as f64 / max as f64).round() as usize;
        let x = 10 + step * i;
        let _ = write!(
            svg,
            "<rect x={x} y={} width={} height={h} class=bar><title>{} {value}</title></rect>",
            120 - h,
            step.saturating_sub(2).max(2),
            esc(day)
        );
    }
    let (first, last) = (&items[0].0, &items[items.len() - 1].0);
    let _ = write!(svg, "<text x=10 y=140 class=label>{}</text>", esc(first));
    if items.len() > 1 {
        let _ = write!(
            svg,
            "<text x={} y=140 class=label text-anchor=end>{}</text>",
            10 + step * items.len(),
            esc(last)
        );
    }
    let _ = write!(
        svg,
        "<text x=410 y=12 class=value text-anchor=end>max {max}/day</text></svg>"
    );
    svg
}

/// Principal product × resource product, counts; each cell filters the table.
fn matrix(summary: &Summary) -> String {
    if summary.product_pairs.is_empty() {
        return "<p>no product-mismatch findings</p>".into();
    }
    let mut principals: Vec<&str> = summary
        .product_pairs
        .iter()
        .map(|p| p.principal_product.as_str())
        .collect();
    let mut resources: Vec<&str> = summary
        .product_pairs
        .iter()
        .map(|p| p.resource_product.as_str())
        .collect();
    principals.sort();
    principals.dedup();
    resources.sort();
    resources.dedup();
    let mut out = String::from("<table class=matrix><tr><th>principal \\ resource</th>");
    for r in &resources {
        let _ = write!(out, "<th>{}</th>", esc(r));
    }
    out.push_str("</tr>");
    for p in &principals {
        let _ = write!(out, "<tr><th>{}</th>", esc(p));
        for r in &resources {
            let count = summary
                .product_pairs
                .iter()
                .find(|x| x.principal_product == *p && x.resource_product == *r)
                .map_or(0, |x| x.findings);
            if count == 0 {
                out.push_str("<td></td>");
            } else {
                let _ = write!(
                    out,
                    "<td><a href=\"#kind=product-mismatch&amp;pp={}&amp;rp={}\">{count}</a></td>",
                    esc(&urlencode(p)),
                    esc(&urlencode(r))
                );
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

fn ranking(items: &[(String, u64)], key: &str) -> String {
    if items.is_empty() {
        return "<p>none</p>".into();
    }
    let mut out = String::from("<table class=rank>");
    for (label, value) in items {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=num>{value}</td></tr>",
            filter_link(key, label, label)
        );
    }
    out.push_str("</table>");
    out
}

const HEAD: &str = r#"<!doctype html>
<html lang=en><head><meta charset=utf-8>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name=viewport content="width=device-width, initial-scale=1">
<title>tagtrail report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 40px;color:#1d2733;background:#f6f7f9}
h1{margin:16px 0 2px;font-size:22px}h2{font-size:15px;margin:0 0 8px}
.meta{color:#5a6572;margin:0 0 12px}
.integrity{border:2px solid #b3261e;background:#fdecea;color:#5c1410;padding:8px 16px;margin:0 0 16px;border-radius:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
.card{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:12px 14px;overflow:auto}
.chart{width:100%;max-width:520px;height:auto;max-height:240px}.bar{fill:#3b6fb6}.label,.value{font-size:11px;fill:#1d2733}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eef1f4;text-align:left;font-size:12px}
.num,.matrix td{text-align:right}.links{font-size:12px}a{color:#245ea8}
#findings{margin-top:18px;background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:12px 14px}
#findings th{cursor:pointer;background:#f0f3f7;position:sticky;top:0}
#filters input,#filters select{margin:0 8px 8px 0;padding:3px 6px;font-size:12px}
#table td{max-width:420px;overflow-wrap:anywhere}.denied{color:#8a5a00}
</style></head><body>
"#;

const TABLE: &str = r#"<section id=findings><h2>Findings</h2>
<div id=filters>
<select id=f-kind aria-label=kind><option value="">every kind</option></select>
<input id=f-product placeholder="product" aria-label=product>
<input id=f-principal placeholder="principal" aria-label=principal>
<input id=f-resource placeholder="resource" aria-label=resource>
<input id=f-account placeholder="account" aria-label=account>
<input id=f-service placeholder="service" aria-label=service>
<span id=shown></span> <button id=prev>‹</button> <button id=next>›</button>
</div>
<table id=table><thead><tr>
<th data-col=0>time</th><th data-col=1>kind</th><th data-col=2>principal</th><th data-col=3>principal product</th>
<th data-col=4>resource</th><th data-col=5>resource product</th><th data-col=6>account</th><th data-col=7>service</th><th data-col=8>call</th>
</tr></thead><tbody></tbody></table></section>
"#;

/// Filters (kind, product, principal, resource, account, service; from the inputs or the
/// URL's `#key=value&…`), sorting by a column header, 100 rows a page.
const SCRIPT: &str = r#"<script>
(function(){
var rows=JSON.parse(document.getElementById('data').textContent),PAGE=100,page=0,sortCol=0,sortDir=1,view=rows;
var $=function(id){return document.getElementById(id)};
var f={kind:$('f-kind'),product:$('f-product'),principal:$('f-principal'),resource:$('f-resource'),account:$('f-account'),service:$('f-service')};
var pair=null;
Array.from(new Set(rows.map(function(r){return r[1]}))).sort().forEach(function(k){var o=document.createElement('option');o.value=k;o.textContent=k;f.kind.appendChild(o)});
function has(text,q){return !q||text.toLowerCase().indexOf(q.toLowerCase())>=0}
function apply(){
 var k=f.kind.value,p=f.product.value;
 view=rows.filter(function(r){return (!k||r[1]===k)&&(!p||has(r[3],p)||has(r[5],p))&&has(r[2],f.principal.value)&&has(r[4],f.resource.value)&&has(r[6],f.account.value)&&has(r[7],f.service.value)&&(!pair||(r[3]===pair[0]&&r[5]===pair[1]))});
 view.sort(function(a,b){return a[sortCol]<b[sortCol]?-sortDir:a[sortCol]>b[sortCol]?sortDir:0});
 page=Math.min(page,Math.max(0,Math.ceil(view.length/PAGE)-1));draw();
}
function draw(){
 var body=document.querySelector('#table tbody'),start=page*PAGE,html=[];
 view.slice(start,start+PAGE).forEach(function(r){
  html.push('<tr'+(r[9]?' class=denied title="denied: an attempt"':'')+'>'+r.slice(0,9).map(function(v){return '<td>'+String(v).replace(/&/g,'&amp;').replace(/</g,'&lt;')+'</td>'}).join('')+'</tr>')});
 body.innerHTML=html.join('');
 $('shown').textContent='showing '+(view.length?start+1:0)+'-'+Math.min(start+PAGE,view.length)+' of '+view.length+' ('+rows.length+' in all)';
}
function fromHash(){
 var q=new URLSearchParams(location.hash.slice(1));page=0;pair=null;
 var k=q.get('kind');
 if(k&&!Array.from(f.kind.options).some(function(o){return o.value===k})){var o=document.createElement('option');o.value=k;o.textContent=k;f.kind.appendChild(o)}
 Object.keys(f).forEach(function(key){f[key].value=q.get(key)||''});
 if(q.get('pp')!==null&&q.get('rp')!==null)pair=[q.get('pp'),q.get('rp')];
 apply();
}
Object.keys(f).forEach(function(key){f[key].addEventListener('input',function(){page=0;pair=null;apply()})});
$('prev').onclick=function(){if(page>0){page--;draw()}};
$('next').onclick=function(){if((page+1)*PAGE<view.length){page++;draw()}};
document.querySelectorAll('#table th').forEach(function(th){th.onclick=function(){var c=+th.dataset.col;sortDir=c===sortCol?-sortDir:1;sortCol=c;apply()}});
window.addEventListener('hashchange',fromHash);fromHash();
})();
</script>
"#;
