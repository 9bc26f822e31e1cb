#!/usr/bin/env bash
# Put the queries gleand's router builds (our-queries.ts) on a link in front of the Linux
# kernel as an IGMPv3 / MLDv2 host that joined (S,G) channels, and capture what tshark
# reads of them and how the kernel answers (a current-state report naming the queried
# source it listens to, not the one it does not).
#
#   host ns h0 10.0.9.2/24 (python: MCAST_JOIN_SOURCE_GROUP 232.1.1.1 from 192.0.2.10,
#           ff3e::8000:1 from 2001:db8::10)  —veth—  rtr ns r0 10.0.9.1/24 (AF_PACKET sender, tshark)
#
# Output: mcast-ours.json beside this script (same shape as mcast.json).
# Usage (root): bash test/unit/wire/golden/capture-mcast-ours.sh. Namespaces mcc-<PID>-*,
# torn down on exit; only the PIDs this script started are killed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
TAG="mcc-$$"
NS_H="$TAG-h" NS_R="$TAG-r"
WORK="$(mktemp -d "/tmp/$TAG.XXXXXX")"
PIDS=()
PY=/usr/bin/python3
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ns in "$NS_H" "$NS_R"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

(cd "$ROOT" && npx tsx test/unit/wire/golden/our-queries.ts) >"$WORK/ours.json"
for ns in "$NS_H" "$NS_R"; do
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add h0 netns "$NS_H" address 02:00:00:00:09:02 type veth peer name r0 netns "$NS_R" address 02:00:00:00:09:01
in_ns "$NS_H" ip addr add 10.0.9.2/24 dev h0
in_ns "$NS_R" ip addr add 10.0.9.1/24 dev r0
# One unsolicited report only, far apart: the answers in the capture are answers to our queries.
in_ns "$NS_H" sysctl -qw net.ipv4.conf.h0.igmpv3_unsolicited_report_interval=100000 net.ipv6.conf.h0.mldv2_unsolicited_report_interval=100000
for d in "$NS_H h0" "$NS_R r0"; do set -- $d; in_ns "$1" ip link set "$2" up; done
sleep 1
in_ns "$NS_R" tshark -q -n -i r0 -f 'igmp or (ip6 and not udp and not tcp)' -w "$WORK/ours.pcapng" >"$WORK/tshark.log" 2>&1 &
PIDS+=("$!"); TSHARK=$!
sleep 3
cat >"$WORK/host.py" <<'PYEOF'
import socket, struct, time
idx = socket.if_nametoindex('h0')
def ss(family, addr):
    if family == socket.AF_INET:
        body = struct.pack('=H', family) + struct.pack('!H', 0) + socket.inet_pton(family, addr)
    else:
        body = struct.pack('=H', family) + struct.pack('!HI', 0, 0) + socket.inet_pton(family, addr) + struct.pack('=I', 0)
    return body + b'\0' * (128 - len(body))
gsr = lambda f, g, s: struct.pack('=I4x', idx) + ss(f, g) + ss(f, s)
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.setsockopt(socket.IPPROTO_IP, 46, gsr(socket.AF_INET, '232.1.1.1', '192.0.2.10'))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
b.setsockopt(socket.IPPROTO_IPV6, 46, gsr(socket.AF_INET6, 'ff3e::8000:1', '2001:db8::10'))
print('joined', flush=True)
time.sleep(30)
PYEOF
in_ns "$NS_H" "$PY" "$WORK/host.py" >"$WORK/host.log" 2>&1 &
PIDS+=("$!")
sleep 4
cat >"$WORK/send.py" <<'PYEOF'
import json, socket, sys, time
ours = json.load(open(sys.argv[1]))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('r0', 0))
src = bytes.fromhex('020000000901')
def mac_of(ip):
    if ip[0] >> 4 == 4:   # RFC 1112 §6.4: 01:00:5e + low 23 bits
        return bytes([1, 0, 0x5e, ip[17] & 0x7f, ip[18], ip[19]]), b'\x08\x00'
    return b'\x33\x33' + ip[36:40], b'\x86\xdd'   # RFC 2464 §7: 33:33 + low 32 bits
for name in ('igmpGeneral', 'igmpGroupSource', 'mldGeneral', 'mldGroupSource'):
    pkt = bytes.fromhex(ours[name])
    dst, et = mac_of(pkt)
    s.send(dst + src + et + pkt)
    print('sent', name, flush=True)
    time.sleep(2.5)   # Max Resp 1 s: the answer comes before the next query
PYEOF
in_ns "$NS_R" "$PY" "$WORK/send.py" "$WORK/ours.json"
sleep 2
kill "$TSHARK"; wait "$TSHARK" 2>/dev/null || true
tshark -r "$WORK/ours.pcapng" -T json -x --no-duplicate-keys >"$WORK/ours-dissected.json"
"$PY" - "$WORK/ours-dissected.json" "$HERE/mcast-ours.json" <<'PYEOF'
import json, sys
def flat(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k.endswith('_raw'):
                continue
            if isinstance(v, dict):
                flat(v, out)
            elif isinstance(v, list):
                for x in v:
                    flat(x, out) if isinstance(x, dict) else out.setdefault(k, []).append(x)
            else:
                out.setdefault(k, []).append(v)
result = []
for p in json.load(open(sys.argv[1])):
    layers = p['_source']['layers']
    if 'igmp' not in layers and not ('icmpv6' in layers and layers['icmpv6'].get('icmpv6.type') in ('130', '131', '132', '143')):
        continue
    fields = {}
    for name in ('ip', 'ipv6', 'igmp', 'icmpv6'):
        if name in layers:
            flat(layers[name], fields)
    result.append({'frame': int(layers['frame']['frame.number']), 'iface': 'r0', 'ipHex': layers['frame_raw'][0][28:], 'fields': fields})
json.dump(result, open(sys.argv[2], 'w'), indent=1)
print(sys.argv[2], len(result), 'packets')
PYEOF
