#!/usr/bin/env bash
# The report in a real browser (issue 23): generates `crm-tiering report` of a demo store (2000
# customers x 3 months, with an account manager assignment) and opens it in headless Chromium:
#
#   * the DOM after load (chromium --dump-dom) holds every chart, each with drawn shapes;
#   * with Playwright (installed from PyPI into a venv under the check's directory, driving the
#     system chromium: no browser download), no console error, no page error, no request but the
#     file itself, and every chart and some shape of it has a non-empty bounding box; one PNG per
#     chart beside the full page. When Playwright cannot be installed the DOM check stands alone
#     and the script says so;
#   * a screenshot of the whole page, whose path is printed.
#
# Installs what it needs from Debian's packages when missing (chromium, fonts-noto-cjk, so
# that Chinese renders as glyphs, not boxes): run it as root, or with them installed.
#
# Usage: scripts/report-browser-check.sh      (exits non-zero on any failure)
# Environment: REPORT_CHECK_DIR (default target/report-check), CRM_TIERING_BIN (a built binary
# to use instead of building the debug one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${REPORT_CHECK_DIR:-$ROOT/target/report-check}
CHARTS=6 # the report of a month with a month before it and an assignment: see the tests/report.rs

fail() {
    echo "report-browser-check: FAILED: $*" >&2
    exit 1
}

# --- the browser and the fonts --------------------------------------------------------------
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    need+=(fonts-noto-cjk)
fi
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "missing ${need[*]}: install them (apt-get install -y ${need[*]}) or run as root"
    echo "installing ${need[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
CHROMIUM=$(command -v chromium)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || fail "no font with Chinese glyphs (fonts-noto-cjk)"

# --- a report ---------------------------------------------------------------------------------
if [ -n "${CRM_TIERING_BIN:-}" ]; then
    BIN=$CRM_TIERING_BIN
else
    (cd "$ROOT" && cargo build -q -p crm-tiering-cli)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/crm-tiering
fi
[ -x "$BIN" ] || fail "no crm-tiering binary at $BIN"

rm -rf "$OUT/demo" "$OUT"/*.png "$OUT/report.html" "$OUT/dom.html"
mkdir -p "$OUT"
"$BIN" demo --customers 2000 --months 3 --out "$OUT/demo" >/dev/null
# Every customer of the demo, in turns, to three managers (one name with markup to escape).
python3 - "$OUT/demo/input/aum-monthly.csv" "$OUT/managers.csv" <<'EOF'
import csv, sys
ids = sorted({row["customer_id"] for row in csv.DictReader(open(sys.argv[1], encoding="utf-8"))})
names = ["王芳", "李雷", "Zhang <Wei> & Co"]
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["customer_id", "manager"])
    for i, c in enumerate(ids):
        w.writerow([c, names[i % len(names)]])
EOF
"$BIN" report --month 2023-03 --store "$OUT/demo/crm-tiering.db" --managers "$OUT/managers.csv" \
    --out "$OUT/report.html"
URL="file://$OUT/report.html"

chrome() {
    # Headless Chromium as root in a container: no sandbox, no GPU; bounded in time.
    timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars "$@" 2>/dev/null
}

# --- the DOM after load -------------------------------------------------------------------------
chrome --dump-dom "$URL" >"$OUT/dom.html" || fail "chromium --dump-dom did not finish"
python3 - "$OUT/dom.html" "$CHARTS" <<'EOF' || fail "the DOM check"
import re, sys
dom, charts = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2])
svgs = re.findall(r"<svg\b.*?</svg>", dom, re.S)
assert len(svgs) == charts, f"{len(svgs)} <svg> in the DOM, expected {charts}"
for i, s in enumerate(svgs, 1):
    shapes = len(re.findall(r"<(rect|circle|polyline)\b", s))
    texts = len(re.findall(r"<text\b", s))
    assert shapes > 0 and texts > 0, f"chart {i} has {shapes} shape(s) and {texts} label(s)"
    print(f"dom: chart {i}: {shapes} shapes, {texts} labels")
for label in ["层级分布", "Tier distribution", "迁移矩阵", "层级趋势", "事件 Events", "提醒 Alerts",
              "临界客户", "客户经理工作清单", "Zhang &lt;Wei&gt; &amp; Co"]:
    assert label in dom, f"the DOM lacks {label!r}"
for banned in ["http://", "https://", "<script"]:
    assert banned not in dom, f"the DOM holds {banned!r}"
print(f"dom: {len(svgs)} charts, every one drawn")
EOF

# --- Playwright: console errors, requests, bounding boxes, screenshots ----------------------------
VENV=$OUT/venv
playwright=no
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import playwright" 2>/dev/null; then
    playwright=yes
elif python3 -m venv "$VENV" >/dev/null 2>&1 && "$VENV/bin/pip" install -q playwright >/dev/null 2>&1; then
    playwright=yes
fi
if [ "$playwright" = yes ]; then
    "$VENV/bin/python" - "$CHROMIUM" "$URL" "$OUT" "$CHARTS" <<'EOF' || fail "the Playwright check"
import sys
from playwright.sync_api import sync_playwright

chromium, url, out, charts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
problems = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: r.url == url or problems.append(f"a request for {r.url}"))
    page.goto(url, wait_until="load")
    boxes = page.eval_on_selector_all("svg", """els => els.map(e => {
        const r = e.getBoundingClientRect();
        const drawn = [...e.querySelectorAll('rect,circle,polyline')]
            .filter(s => { const b = s.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length;
        return {w: r.width, h: r.height, drawn, label: e.getAttribute('aria-label')};
    })""")
    if len(boxes) != charts:
        problems.append(f"{len(boxes)} charts, expected {charts}")
    for i, b in enumerate(boxes, 1):
        print(f"browser: chart {i} {b['label']!r}: {b['w']:.0f}x{b['h']:.0f} px, {b['drawn']} shapes drawn")
        if not (b["w"] > 0 and b["h"] > 0 and b["drawn"] > 0):
            problems.append(f"chart {i} is not drawn: {b}")
    for i, el in enumerate(page.query_selector_all("svg"), 1):
        el.screenshot(path=f"{out}/chart-{i}.png")
    # The work-list blocks open, so that the screenshot shows one.
    page.eval_on_selector_all("details", "els => els.slice(0, 1).forEach(e => e.open = true)")
    page.screenshot(path=f"{out}/report.png", full_page=True)
    browser.close()
for p_ in problems:
    print(f"browser: {p_}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
    echo "browser: no console error, no request but the file, every chart drawn (Playwright, $CHROMIUM)"
else
    echo "browser: Playwright could not be installed from PyPI: console errors and bounding boxes NOT checked (the DOM check stands)"
    chrome --screenshot="$OUT/report.png" --window-size=1400,4200 "$URL" >/dev/null ||
        fail "chromium --screenshot did not finish"
fi
[ -s "$OUT/report.png" ] || fail "no screenshot"
echo "report: $OUT/report.html"
echo "screenshot: $OUT/report.png"
echo "report-browser-check: OK"
