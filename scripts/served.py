"""A `guarantor serve` on 127.0.0.1 for the scripts: a copy of the example mission, a fresh store, one API key per
role asked for, and a server that can be started (waiting for /health), stopped and killed."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MISSION = os.path.join(ROOT, "docs", "examples", "mission")


def request(port, key, method, path, body=None, content_type=None, timeout=30):
    """One request to the server on `port` with an API key: (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": "Bearer " + key}
    if content_type:
        headers["Content-Type"] = content_type
    c.request(method, path, body=body, headers=headers)
    response = c.getresponse()
    return response.status, response.read()


def stream_alerts(response):
    """The alerts of a /stream?events=alert response as (SSE id, alert), until the stream ends."""
    last_id, event = None, None
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"id: "):
            last_id = line[4:].strip().decode()
        elif line.startswith(b"event: "):
            event = line[7:].strip()
        elif line.startswith(b"data: ") and event == b"alert":
            yield last_id, json.loads(line[6:])


class ServedMission:
    def __init__(self, guarantor, name, roles):
        self.guarantor = guarantor
        self.dir = tempfile.mkdtemp(prefix=f"guarantor-{name}-")
        self.mission = os.path.join(self.dir, "mission")
        shutil.copytree(MISSION, self.mission)
        self.store = os.path.join(self.dir, "store.sqlite")
        self.keys = {}
        for role in roles:
            out = subprocess.run(
                [guarantor, "keys", "create", "--mission", self.mission, "--store", self.store, "--member",
                 "MISSION", "--user", f"{name}-{role}", "--role", role],
                check=True, capture_output=True, text=True).stdout
            self.keys[role] = next(w for w in out.split() if w.startswith("gk_"))
        self.process = None
        self.port = None

    def start(self, timeout=120, extra=()):
        """Starts the server on a free port (with `extra` arguments) and returns once /health answers."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = open(os.path.join(self.dir, "serve.log"), "ab")
        self.process = subprocess.Popen(
            [self.guarantor, "serve", "--mission", self.mission, "--store", self.store, "--port", str(self.port)]
            + list(extra),
            stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                with open(os.path.join(self.dir, "serve.log"), errors="replace") as f:
                    raise SystemExit(f"the server stopped: {f.read()[-2000:]}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the server did not start")

    def request(self, method, path, role, body=None, content_type=None, timeout=30):
        """One request with the role's key: (status, body)."""
        return request(self.port, self.keys[role], method, path, body, content_type, timeout)

    def stop(self):
        """Stops the server gracefully (SIGTERM)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def remove(self):
        """Kills the server if it still runs and deletes the mission and store."""
        if self.process and self.process.poll() is None:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
