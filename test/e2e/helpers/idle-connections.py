#!/usr/bin/env python3
"""Open N connections to a unix stream socket and hold them, sending nothing.

Usage: idle-connections.py PATH N
Prints one JSON line when all N are open ({"ready": true, ...}), then one every
0.2 s while any change: how many the peer has closed. Runs until killed.
Connects block while the listen backlog is full (a socket with a timeout would be
non-blocking, and AF_UNIX connect then fails at once with EAGAIN); a connect that
fails otherwise is counted, not retried.
"""
import json
import resource
import select
import socket
import sys
import time

path, n = sys.argv[1], int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
ep = select.epoll()
socks = {}
state = {"opened": 0, "failed": 0, "closedByPeer": 0}


def report(**extra):
    print(json.dumps({**state, "open": len(socks), **extra}), flush=True)


def reap(timeout):
    for fd, _ in ep.poll(timeout, 4096):
        ep.unregister(fd)
        socks.pop(fd).close()
        state["closedByPeer"] += 1


for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        state["failed"] += 1
        s.close()
        continue
    s.setblocking(False)
    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    socks[s.fileno()] = s
    state["opened"] += 1
    if state["opened"] % 256 == 0:
        reap(0)

report(ready=True)
last = dict(state)
while True:
    reap(0.2)
    if state != last:
        report()
        last = dict(state)
