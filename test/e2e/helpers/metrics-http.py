#!/usr/bin/python3
"""A scraper and three misbehaving clients for gleand's /metrics listener, written
against the socket API (not Node's HTTP), printing one JSON object.

  metrics-http.py HOST PORT scrape      GET /metrics: status, content type, body
  metrics-http.py HOST PORT crowd N     hold N silent connections, then try a scrape
  metrics-http.py HOST PORT big BYTES   a request head of BYTES: the status line
  metrics-http.py HOST PORT slow        half a request, then wait until the server closes
"""
import json, socket, sys, urllib.request

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url = f"http://{host}:{port}/metrics" if ':' not in host else f"http://[{host}]:{port}/metrics"

def scrape():
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return {"status": r.status, "type": r.headers.get("Content-Type"), "body": r.read().decode()}
    except Exception as e:  # refused, reset, closed without an answer
        return {"error": type(e).__name__ + ": " + str(e)}

def status_line(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")[0].decode()

if mode == "scrape":
    out = scrape()
elif mode == "crowd":
    held = [socket.create_connection((host, port), timeout=10) for _ in range(int(sys.argv[4]))]
    crowded = scrape()
    for s in held:
        s.close()
    out = {"crowded": crowded}
elif mode == "big":
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * int(sys.argv[4]) + b"\r\n\r\n")
    out = {"statusLine": status_line(s)}
    s.close()
elif mode == "slow":
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never the blank line
    out = {"statusLine": status_line(s)}
    s.close()
else:
    sys.exit(f"unknown mode {mode}")
print(json.dumps(out))
