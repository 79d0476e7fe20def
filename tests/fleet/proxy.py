#!/usr/bin/env python3
"""The fleet's way out: a forward HTTP proxy on the bridge address for the test hosts.

    proxy.py LISTEN_ADDR PORT CACHE_DIR

The test hosts have a private address and no route out; apt, pip and Maven reach their
registries through this proxy (plain HTTP requests, and CONNECT tunnels for HTTPS). Debian
packages (.deb, fetched over http) are kept in CACHE_DIR by URL, so a package that several
hosts install crosses the network once per run. Anything else passes through untouched.
Only registry ports (80, 443) are tunnelled.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import select
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHE = ""
CACHE_LOCK = threading.Lock()
INFLIGHT: dict[str, threading.Event] = {}  # cacheable URL -> set when its download ends
HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
       "trailers", "transfer-encoding", "upgrade"}


def cache_path(url: str) -> str | None:
    if not url.endswith(".deb"):
        return None
    return os.path.join(CACHE, hashlib.sha256(url.encode()).hexdigest() + ".deb")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # one line per request, to stderr
        sys.stderr.write("proxy: %s %s\n" % (self.client_address[0], fmt % args))

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        if port not in ("443", "80"):
            self.send_error(403, "only ports 80 and 443")
            return
        try:
            up = socket.create_connection((host, int(port)), timeout=30)
        except OSError as e:
            self.send_error(502, f"connect {self.path}: {e}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        socks = [self.connection, up]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 300)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            up.close()

    def do_HEAD(self):
        self.forward(head=True)

    def do_GET(self):
        self.forward(head=False)

    def forward(self, head: bool):
        url = self.path
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or not u.hostname:
            self.send_error(400, "absolute http:// URL expected")
            return
        cp = cache_path(url) if not head else None
        mine = None
        while cp:  # one download per package: later askers wait for the first
            with CACHE_LOCK:
                if os.path.exists(cp):
                    break
                ev = INFLIGHT.get(url)
                if ev is None:
                    mine = INFLIGHT[url] = threading.Event()
                    break
            ev.wait(600)
            if not os.path.exists(cp):
                cp = None  # the first download failed: fetch this one uncached
        try:
            self.fetch(url, u, head, cp, mine)
        finally:
            if mine:
                with CACHE_LOCK:
                    del INFLIGHT[url]
                mine.set()

    def fetch(self, url, u, head, cp, mine):
        if cp and not mine and os.path.exists(cp):
            size = os.path.getsize(cp)
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.debian.binary-package")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(cp, "rb") as f:
                while chunk := f.read(1 << 16):
                    self.wfile.write(chunk)
            return
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
        path = u.path + ("?" + u.query if u.query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        try:
            conn.request("HEAD" if head else "GET", path or "/", headers=headers)
            r = conn.getresponse()
        except OSError as e:
            self.send_error(502, f"{url}: {e}")
            return
        body_len = r.getheader("Content-Length")
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if body_len is None and not head:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        tmp = None
        if cp and mine and r.status == 200:
            tmp = open(f"{cp}.{threading.get_ident()}.part", "wb")
        ok = True
        try:
            while chunk := r.read(1 << 16):
                self.wfile.write(chunk)
                if tmp:
                    tmp.write(chunk)
        except OSError:
            ok = False
        finally:
            conn.close()
            if tmp:
                tmp.close()
                if ok and (body_len is None or os.path.getsize(tmp.name) == int(body_len)):
                    with CACHE_LOCK:
                        os.replace(tmp.name, cp)
                else:
                    os.unlink(tmp.name)


def main() -> int:
    global CACHE
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    addr, port, CACHE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(CACHE, exist_ok=True)
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((addr, port), Handler)
    print(f"proxy: listening on {addr}:{port}, .deb cache {CACHE}", file=sys.stderr, flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
