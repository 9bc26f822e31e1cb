#!/usr/bin/env bash
# Capture golden IGMP / MLD messages from real peers: the Linux kernel as the host
# (joins made by a python script with MCAST_JOIN_SOURCE_GROUP / IP_ADD_SOURCE_MEMBERSHIP,
# MCAST_BLOCK_SOURCE, plain IP_ADD_MEMBERSHIP, and with force_igmp_version=2 /
# force_mld_version=1 the older reports and Leave / Done) and the Linux bridge's querier
# as the router (IGMPv3 / MLDv2 general and group-specific queries, then IGMPv2 / MLDv1).
#
#   host ns  h0 10.0.9.2/24 fd00:9::2/64  (python joins)
#      |  veth
#   rtr ns   r0 enslaved to br0 10.0.9.1/24 fd00:9::1/64 (mcast_querier 1), tshark on br0
#
# Output: mcast.json beside this script: [{ frame, iface, ipHex, fields }], `fields`
# flattening tshark's dissection of ip/ipv6/igmp/icmpv6 like capture.sh does.
# Usage (root): bash test/unit/wire/golden/capture-mcast.sh. Namespaces mcc-<PID>-*, torn
# down on exit; only the PIDs this script started are killed. Addresses: 10.0.9/24, fd00::/8.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
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

for ns in "$NS_H" "$NS_R"; do
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add h0 netns "$NS_H" address 02:00:00:00:09:02 type veth peer name r0 netns "$NS_R" address 02:00:00:00:09:01
in_ns "$NS_R" ip link add br0 address 02:00:00:00:09:b0 type bridge mcast_snooping 1 mcast_querier 1 \
  mcast_igmp_version 3 mcast_mld_version 2 mcast_query_interval 300 mcast_startup_query_count 1 \
  mcast_last_member_count 2 mcast_last_member_interval 100
in_ns "$NS_R" ip link set r0 master br0
in_ns "$NS_H" ip addr add 10.0.9.2/24 dev h0
in_ns "$NS_H" ip -6 addr add fd00:9::2/64 dev h0 nodad
in_ns "$NS_R" ip addr add 10.0.9.1/24 dev br0
in_ns "$NS_R" ip -6 addr add fd00:9::1/64 dev br0 nodad
# No unsolicited report retransmissions beyond the first: fewer duplicates in the capture.
in_ns "$NS_H" sysctl -qw net.ipv4.conf.h0.igmpv3_unsolicited_report_interval=10000 \
  net.ipv6.conf.h0.mldv2_unsolicited_report_interval=10000
for d in "$NS_H h0" "$NS_R r0" "$NS_R br0"; do set -- $d; in_ns "$1" ip link set "$2" up; done

in_ns "$NS_R" tshark -q -n -i br0 -f 'igmp or (ip6 and not udp and not tcp)' -w "$WORK/mc.pcapng" >"$WORK/tshark.log" 2>&1 &
PIDS+=("$!"); TSHARK=$!
sleep 3

cat >"$WORK/join.py" <<'PYEOF'
import socket, struct, sys, time
IFNAME = 'h0'
idx = socket.if_nametoindex(IFNAME)
MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP = 46, 47
MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP = 42, 45
MCAST_BLOCK_SOURCE = 43
IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP = 39, 40  # linux/in.h
def ss(family, addr):
    # struct sockaddr_storage (128 bytes): family then the sockaddr_in / sockaddr_in6 body
    if family == socket.AF_INET:
        body = struct.pack('=H', family) + struct.pack('!H', 0) + socket.inet_pton(family, addr)
    else:
        body = struct.pack('=H', family) + struct.pack('!HI', 0, 0) + socket.inet_pton(family, addr) + struct.pack('=I', 0)
    return body + b'\0' * (128 - len(body))
def gsr(family, group, source):
    # struct group_source_req: uint32 interface, 4 bytes padding (x86-64), 2 × sockaddr_storage
    return struct.pack('=I4x', idx) + ss(family, group) + ss(family, source)
def gr(family, group):
    return struct.pack('=I4x', idx) + ss(family, group)
def step(msg):
    print(msg, flush=True); time.sleep(1.5)
fam, lvl = (socket.AF_INET, socket.IPPROTO_IP) if sys.argv[1] == '4' else (socket.AF_INET6, socket.IPPROTO_IPV6)
G, S1, S2, ASM = sys.argv[2:6]
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET and sys.argv[6:] == ['old']:
    # IPv4 source membership the old way (struct ip_mreq_source: group, interface, source).
    mreq = socket.inet_aton(G) + socket.inet_aton('10.0.9.2') + socket.inet_aton(S1)
    s.setsockopt(lvl, 39, mreq); step('IP_ADD_SOURCE_MEMBERSHIP')
    s.setsockopt(lvl, 40, mreq); step('IP_DROP_SOURCE_MEMBERSHIP')
    sys.exit(0)
if sys.argv[6:] == ['asm']:
    s.setsockopt(lvl, MCAST_JOIN_GROUP, gr(fam, ASM)); step('join ASM')
    s.setsockopt(lvl, MCAST_LEAVE_GROUP, gr(fam, ASM)); step('leave ASM')
    sys.exit(0)
s.setsockopt(lvl, MCAST_JOIN_SOURCE_GROUP, gsr(fam, G, S1)); step('join S1')
s.setsockopt(lvl, MCAST_JOIN_SOURCE_GROUP, gsr(fam, G, S2)); step('join S2')
s.setsockopt(lvl, MCAST_LEAVE_SOURCE_GROUP, gsr(fam, G, S1)); step('leave S1')
a = socket.socket(fam, socket.SOCK_DGRAM)
a.setsockopt(lvl, MCAST_JOIN_GROUP, gr(fam, ASM)); step('join ASM (EXCLUDE {})')
a.setsockopt(lvl, MCAST_BLOCK_SOURCE, gsr(fam, ASM, S1)); step('block S1 in ASM')
time.sleep(4)  # answer a general query with current-state records
s.setsockopt(lvl, MCAST_LEAVE_SOURCE_GROUP, gsr(fam, G, S2)); step('leave S2')
a.setsockopt(lvl, MCAST_LEAVE_GROUP, gr(fam, ASM)); step('leave ASM')
PYEOF

in_ns "$NS_H" "$PY" "$WORK/join.py" 4 232.1.1.1 192.0.2.10 192.0.2.11 239.1.1.1
in_ns "$NS_H" "$PY" "$WORK/join.py" 4 232.1.1.2 192.0.2.12 192.0.2.12 239.1.1.1 old
in_ns "$NS_H" "$PY" "$WORK/join.py" 6 ff3e::8000:1 2001:db8::10 2001:db8::11 ff0e::1:1
# A general query from the bridge, answered with current-state records.
in_ns "$NS_R" ip link set br0 type bridge mcast_query_interval 400
# The older versions: IGMPv2 report / leave and MLDv1 report / done for an ASM group,
# and the bridge's IGMPv2 / MLDv1 queries.
in_ns "$NS_H" sysctl -qw net.ipv4.conf.h0.force_igmp_version=2 net.ipv6.conf.h0.force_mld_version=1
in_ns "$NS_R" ip link set br0 type bridge mcast_igmp_version 2 mcast_mld_version 1
in_ns "$NS_R" ip link set br0 type bridge mcast_querier 0
in_ns "$NS_R" ip link set br0 type bridge mcast_querier 1
sleep 2
in_ns "$NS_H" "$PY" "$WORK/join.py" 4 232.1.1.1 192.0.2.10 192.0.2.11 239.1.1.2 asm
in_ns "$NS_H" "$PY" "$WORK/join.py" 6 ff3e::8000:1 2001:db8::10 2001:db8::11 ff0e::1:2 asm
in_ns "$NS_H" sysctl -qw net.ipv4.conf.h0.force_igmp_version=1
in_ns "$NS_H" "$PY" "$WORK/join.py" 4 232.1.1.1 192.0.2.10 192.0.2.11 239.1.1.3 asm
sleep 2
kill "$TSHARK"; wait "$TSHARK" 2>/dev/null || true

tshark -r "$WORK/mc.pcapng" -T json -x --no-duplicate-keys >"$WORK/mc.json"
"$PY" - "$WORK/mc.json" "$HERE/mcast.json" <<'PYEOF'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
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
for p in json.load(open(src)):
    layers = p['_source']['layers']
    if 'igmp' not in layers and not ('icmpv6' in layers and 'icmpv6.mld' in json.dumps(layers['icmpv6'])[:20000]
                                        or 'icmpv6' in layers and layers['icmpv6'].get('icmpv6.type') in ('130', '131', '132', '143')):
        continue
    fields = {}
    for name in ('ip', 'ipv6', 'igmp', 'icmpv6'):
        if name in layers:
            flat(layers[name], fields)
    result.append({
        'frame': int(layers['frame']['frame.number']),
        'iface': 'br0',
        'ipHex': layers['frame_raw'][0][28:],
        'fields': fields,
    })
json.dump(result, open(dst, 'w'), indent=1)
print(dst, len(result), 'packets')
PYEOF
