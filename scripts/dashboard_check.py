#!/usr/bin/env python3
"""The dashboard as a person uses it: a real `guarantor serve`, driven in headless Chromium through chromedriver.

    python3 scripts/dashboard_check.py --guarantor .build/release/guarantor [--artifacts DIR]

The server runs the example mission (docs/examples/mission) on a fresh store with the example observations and a few
marked ones: TLP:CLEAR reports, a GREEN one, and a RED report of France's. Then, in the browser:

1. the public view (no key): the page loads with no console errors, the map draws as many incidents as
   `GET /incidents` returns without a key, and none of the GREEN or RED reports' incidents is anywhere in the DOM;
2. Poland's analyst (who may not read France's RED report): the map draws as many incidents as `/incidents` returns
   for that key, and neither the RED report nor its incident is in the DOM or in the stream;
3. the mission's analyst verifies an incident through the Review tab; its status changes on the map's data and in the
   API;
4. with the page open, a strike on the protected site is filed: its tripwire alert appears on the page within 1 s;
5. the Ukrainian switch relabels the page;
6. the daily report as PDF for Poland and the public: pdftotext reads the count of incidents in the day, equal to what
   `/incidents` gives that reader, and France's RED report is not in it; pdftoppm renders its pages.

Screenshots of every view and the report's pages go to --artifacts (default .build/artifacts/dashboard). Exit 0 when every check passes.
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MISSION = os.path.join(ROOT, "docs", "examples", "mission")
FAILURES = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        FAILURES.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=30):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    def __init__(self, guarantor, work):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.store = os.path.join(work, "events.sqlite")
        self.guarantor = guarantor
        self.keys = {}
        for name, member, role in [("sensor", "MISSION", "sensor"), ("analyst", "MISSION", "analyst"),
                                   ("pl", "PL", "analyst"), ("fr", "FR", "monitor"), ("us", "US", "liaison"),
                                   ("auditor", "UK", "auditor")]:
            out = subprocess.run([guarantor, "keys", "create", "--mission", MISSION, "--store", self.store,
                                  "--member", member, "--user", f"{name}-user", "--role", role],
                                 check=True, capture_output=True, text=True).stdout
            self.keys[name] = next(w for w in out.split() if w.startswith("gk_"))
        self.process = subprocess.Popen(
            [guarantor, "serve", "--mission", MISSION, "--store", self.store, "--port", str(self.port),
             "--clock-every", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(100):
            try:
                if http("GET", self.base + "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not start")

    def get(self, path, key=None):
        status, body = http("GET", self.base + path, headers={"Authorization": f"Bearer {self.keys[key]}"} if key else {})
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def incidents(self, key=None):
        return all_incidents(self.base, self.keys[key] if key else None)

    def post(self, key, ndjson):
        status, body = http("POST", self.base + "/observations", ndjson.encode(),
                            {"Authorization": f"Bearer {self.keys[key]}", "Content-Type": "application/x-ndjson"})
        if status != 201:
            raise SystemExit(f"POST /observations: {status} {body[:300]!r}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Browser:
    """A W3C WebDriver session on chromedriver (no Selenium: four HTTP calls is all a check needs)."""

    def __init__(self):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="guarantor-chromium-")
        self.driver = subprocess.Popen([shutil.which("chromedriver"), f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                if http("GET", self.base + "/status")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        options = {"binary": shutil.which("chromium"),
                   "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            f"--user-data-dir={self.profile}", "--window-size=1400,1000", "--lang=en-GB"]}
        _, body = http("POST", self.base + "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}}})
        value = json.loads(body)["value"]
        if "sessionId" not in value:
            raise SystemExit(f"no browser session: {value}")
        self.session = f"{self.base}/session/{value['sessionId']}"

    def call(self, method, path, body=None):
        status, raw = http(method, self.session + path, body if body is not None else ({} if method == "POST" else None))
        value = json.loads(raw)["value"] if raw else None
        if status != 200:
            raise RuntimeError(f"{path}: {value}")
        return value

    def open(self, url):
        self.call("POST", "/url", {"url": url})

    def run(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, what, seconds=15, *args):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = self.run(script, *args)
            if value:
                return value
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def element(self, css):
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def click(self, css):
        self.call("POST", f"/element/{self.element(css)}/click")

    def type(self, css, text):
        self.call("POST", f"/element/{self.element(css)}/value", {"text": text})

    def console_errors(self):
        entries = self.call("POST", "/se/log", {"type": "browser"}) or []
        return [e["message"] for e in entries if e.get("level") == "SEVERE"]

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", "/screenshot")))

    def close(self):
        try:
            self.call("DELETE", "")
        except Exception:
            pass
        self.driver.terminate()
        shutil.rmtree(self.profile, ignore_errors=True)


def all_incidents(base, key=None):
    """Every incident `GET /incidents` gives the key (or the public), page by page."""
    found, after = [], None
    while True:
        status, body = http("GET", base + "/incidents?limit=1000" + (f"&after={after}" if after else ""),
                            headers={"Authorization": f"Bearer {key}"} if key else {})
        if status != 200:
            raise SystemExit(f"GET /incidents: {status} {body[:300]!r}")
        page = json.loads(body)
        found += page["incidents"]
        after = page["next"]
        if not after:
            return found


def line(id, source, at, kind, lon, lat, tlp=None, extra=""):
    marking = f',"tlp":"{tlp}"' if tlp else ""
    return (f'{{"id":"{id}","source":"{source}","observedAt":"{at}","kind":"{kind}",'
            f'"location":{{"lon":{lon},"lat":{lat},"uncertaintyMeters":150}}{marking}{extra}}}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--artifacts", default=os.path.join(ROOT, ".build", "artifacts", "dashboard"))
    args = ap.parse_args()
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (apt-get install chromium chromium-driver)")
    os.makedirs(args.artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="guarantor-dashboard-")
    server = Server(os.path.abspath(args.guarantor), work)
    browser = None
    try:
        with open(os.path.join(ROOT, "docs", "examples", "observations.ndjson")) as f:
            server.post("sensor", f.read())
        marked = [
            line("clear-patrol-1", "mission-osint", "2026-03-02T08:00:00Z", "artilleryFire", 37.60, 48.70, "CLEAR"),
            line("clear-patrol-2", "mission-osint", "2026-03-02T09:00:00Z", "mortarFire", 37.20, 48.10, "CLEAR"),
            line("green-sighting", "us-acoustic-07", "2026-03-02T10:00:00Z", "mortarFire", 36.70, 47.70, "GREEN"),
        ]
        server.post("sensor", "\n".join(marked))
        server.post("fr", line("fr-red-1", "fr-radar-05", "2026-03-02T11:00:00Z", "artilleryFire", 36.40, 47.90, "RED",
                               ',"text":"SECRET-SOURCE-ALPHA"'))
        time.sleep(1)
        red_incident = next(i["id"] for i in server.incidents("fr") if "fr-red-1" in i["observationIds"])
        green_incident = next(i["id"] for i in server.incidents("analyst") if "green-sighting" in i["observationIds"])
        browser = Browser()
        def drawn_when(count):
            return f"const m = document.querySelector('#map'); return m && m.dataset.incidents === '{count}' && m.dataset.incidents;"

        # 1. The public view.
        public = server.incidents()
        browser.open(server.base + "/")
        drawn = browser.wait(drawn_when(len(public)), "the public map")
        check(int(drawn) == len(public) and len(public) > 0, f"public view: map draws {drawn} incidents, /incidents has {len(public)}")
        dom = browser.run("return document.documentElement.outerHTML;")
        check(all(x not in dom for x in ("fr-red-1", red_incident, "green-sighting", green_incident, "SECRET")),
              "public view: no GREEN or RED report or incident in the DOM")
        listed = browser.run("return [...document.querySelectorAll('#incident-table tr[data-id]')].map(r => r.dataset.id);")
        check(sorted(listed) == sorted(i["id"] for i in public),
              f"public view: the incident list holds exactly what /incidents shows ({len(listed)})")
        browser.screenshot(os.path.join(args.artifacts, "public-map.png"))
        errors = browser.console_errors()
        check(not errors, f"public view: no console errors {errors}")

        def sign_in(name):
            browser.open(server.base + "/")
            browser.wait("return document.querySelector('#who') !== null;", "the page")
            if browser.run("return !document.querySelector('#sign-out').hidden;"):
                browser.click("#sign-out")
            browser.type("#key", server.keys[name])
            browser.click("#sign-in button")
            browser.wait("return !document.querySelector('#sign-out').hidden;", f"{name} signed in")

        # 2. Poland's analyst may not read France's RED report.
        sign_in("pl")
        polish = server.incidents("pl")
        drawn = browser.wait(drawn_when(len(polish)), "the Polish analyst's map")
        check(int(drawn) == len(polish), f"PL analyst: map draws {drawn} incidents, /incidents has {len(polish)}")
        dom = browser.run("return document.documentElement.outerHTML;")
        check(red_incident not in dom and "fr-red-1" not in dom and "SECRET" not in dom,
              "PL analyst: France's RED report and its incident are nowhere in the DOM")
        stream = subprocess.run(["curl", "-sN", "--max-time", "2", "-H", f"Authorization: Bearer {server.keys['pl']}",
                                 "-H", "Last-Event-ID: 0", server.base + "/stream"], capture_output=True, text=True).stdout
        check(red_incident not in stream and "fr-red-1" not in stream, "PL analyst: nor in the stream")
        check(not browser.console_errors(), "PL analyst: no console errors")

        # 3. The mission's analyst verifies an incident through the page.
        sign_in("analyst")
        browser.wait(drawn_when(len(server.incidents("analyst"))), "the analyst's map")
        browser.screenshot(os.path.join(args.artifacts, "analyst-map.png"))
        browser.click('#tabs button[data-view="analyst"]')
        browser.wait("return document.querySelectorAll('#queue li').length > 0;", "the review queue")
        target = browser.run("return document.querySelector('#queue li').dataset.id;")
        browser.click("#queue li")
        browser.wait("return document.querySelector('#review [data-action=\"verify\"]') !== null;", "the review form")
        browser.type("#reason", "Crater analysis and two independent sensors agree.")
        browser.click('#review [data-action="verify"]')
        outcome = browser.wait("const o = document.querySelector('#review-outcome'); return o && o.textContent;",
                               "the action's outcome")
        check("verify" in outcome and "Refused" not in outcome, f"analyst: verify through the page ({outcome})")
        status = next(i["status"] for i in server.incidents("analyst") if i["id"] == target)
        check(status == "verified", f"analyst: {target} is {status} in the API")
        row = f"const r = document.querySelector('#incident-table tr[data-id=\"{target}\"]');"
        try:
            browser.wait(row + " return r && r.children[2].textContent === 'verified';", "the row to read verified", 10)
        except RuntimeError:
            pass
        on_map = browser.run(row + " return r && r.children[2].textContent;")
        check(on_map == "verified", f"analyst: the page shows {target} as {on_map}")
        browser.screenshot(os.path.join(args.artifacts, "analyst-review.png"))

        # 4. An alert while the page is open.
        browser.click('#tabs button[data-view="map"]')
        before = browser.run("return document.querySelectorAll('#alerts-live li').length;")
        sent = time.time()
        server.post("sensor", line("strike-1", "us-radar-03", "2026-03-03T05:00:00Z", "explosion", 35.0462, 48.4647,
                                   "CLEAR"))
        browser.wait(f"return document.querySelectorAll('#alerts-live li').length > {before};", "the alert", 5)
        seconds = time.time() - sent
        check(seconds <= 1.0, f"an alert filed while the page is open shows in {seconds:.2f} s (≤ 1 s)")
        browser.screenshot(os.path.join(args.artifacts, "alert.png"))

        # The other views, and the Ukrainian labels.
        browser.click('#tabs button[data-view="guarantee"]')
        browser.wait("return document.querySelector('#force').children.length > 0;", "the guarantee")
        logistics = browser.run("return document.querySelectorAll('#logistics tr').length;")
        check(logistics > 1, f"the Guarantee view lists logistics continuity ({logistics - 1} rows)")
        browser.screenshot(os.path.join(args.artifacts, "guarantee.png"))
        browser.run("const s = document.querySelector('#lang'); s.value = 'uk'; s.dispatchEvent(new Event('change'));")
        label = browser.run("return document.querySelector('#tabs button[data-view=\"guarantee\"]').textContent;")
        check(label == "Гарантія", f"Ukrainian: the Guarantee tab reads {label}")
        browser.screenshot(os.path.join(args.artifacts, "guarantee-uk.png"))
        browser.run("const s = document.querySelector('#lang'); s.value = 'en'; s.dispatchEvent(new Event('change'));")
        sign_in("us")
        browser.click('#tabs button[data-view="liaison"]')
        browser.wait("return document.querySelectorAll('#obligations tr').length > 1;", "the liaison's obligations")
        browser.screenshot(os.path.join(args.artifacts, "liaison.png"))
        sign_in("auditor")
        browser.click('#tabs button[data-view="auditor"]')
        browser.wait("return document.querySelector('#checkpoints').children.length > 0;", "the auditor's view")
        # The auditor has the server verify the log, and the view shows the result when it ends.
        browser.wait("return !!document.querySelector('#verification button');", "the verification card")
        browser.click('#verification button')
        browser.wait("return !!document.querySelector('#verification-result');", "the verification's result", 60)
        result = browser.run("return document.querySelector('#verification-result').textContent;")
        check(result.startswith("Clean:"), f"the auditor's view shows the last verification: {result}")
        browser.screenshot(os.path.join(args.artifacts, "auditor.png"))
        check(not browser.console_errors(), "no console errors in any view")

        # 4. The daily report of 2026-03-02 as PDF (19:30 Kyiv is 17:30Z in March), its text read back with pdftotext
        # and its count compared with the API's for the same reader; its pages as images (pdftoppm).
        day = ("2026-03-01T17:30:00Z", "2026-03-02T17:30:00Z")
        for name in ("pl", None):
            who = name or "public"
            status, pdf = http("GET", server.base + "/reports/daily/2026-03-02?format=pdf",
                               headers={"Authorization": f"Bearer {server.keys[name]}"} if name else {}, timeout=120)
            check(status == 200 and pdf.startswith(b"%PDF"), f"{who}: GET /reports/daily/2026-03-02?format=pdf")
            path = os.path.join(args.artifacts, f"report-{who}.pdf")
            with open(path, "wb") as f:
                f.write(pdf)
            text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True).stdout
            expected = sum(1 for i in server.incidents(name) if day[0] <= i["start"] < day[1])
            found = re.search(r"Incidents recorded: (\d+)", text)
            check(found is not None and int(found.group(1)) == expected,
                  f"{who}: the PDF says {found and found.group(1)} incidents in the day, /incidents {expected}")
            check(all(x not in text for x in ("fr-red-1", red_incident, "SECRET")),
                  f"{who}: France's RED report is not in the PDF")
            subprocess.run(["pdftoppm", "-r", "60", "-png", path, os.path.join(args.artifacts, f"report-{who}")],
                           check=True)
        status, page = http("GET", server.base + "/reports/daily/2026-03-02")
        check(status == 200 and b"<script" not in page and b"http://" not in page.replace(b"http://www.w3.org", b""),
              "the public report's HTML is self-contained")
    finally:
        if browser:
            browser.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots in {args.artifacts}")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
