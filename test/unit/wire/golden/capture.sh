#!/usr/bin/env bash
# Capture golden DHCPv4/DHCPv6 relay exchanges between real peers (Debian's ISC dhcpd,
# dhcrelay, dhclient) and store each packet as hex with tshark's dissection beside it.
#
#   server ns  srv0 10.0.1.1/24 fd00:1::1/64
#       |  veth
#   relay ns   rup  10.0.1.2/24 fd00:1::2/64   (dhcrelay -4 -a / dhcrelay -6 -I, tshark on rup+rdn)
#              rdn  10.0.2.1/24 fd00:2::1/64
#       |  veth
#   client ns  cli0 (dhclient -4, then dhclient -6 -N -P, script /bin/true)
#
# Output: dhcp4-relay.json and dhcp6-relay.json beside this script, each a list of
# { iface, direction summary, ipHex (the datagram from the IP header on), fields }
# where `fields` flattens tshark's JSON dissection into { "field.name": [values in order] }.
#
# Usage (root):  bash test/unit/wire/golden/capture.sh
# Idempotent: every run builds fresh namespaces named gw<PID>-*, a fresh temp dir, and
# overwrites the JSON files. The EXIT/INT/TERM trap kills only the PIDs this script
# started and deletes only the namespaces it created. Addresses: 10.0.x and fd00::/8 only.
set -euo pipefail
command -v ethtool >/dev/null || { echo 'capture.sh needs ethtool (apt-get install ethtool)' >&2; exit 1; }

HERE="$(cd "$(dirname "$0")" && pwd)"
TAG="gw$$"
NS_S="$TAG-srv" NS_R="$TAG-rly" NS_C="$TAG-cli"
WORK="$(mktemp -d "/tmp/$TAG.XXXXXX")"
PIDS=()
PY=/usr/bin/python3

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ns in "$NS_C" "$NS_R" "$NS_S"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
bg() { # bg NS LOGNAME cmd... : start in background, remember the PID
  local ns="$1" log="$2"; shift 2
  ip netns exec "$ns" "$@" >"$WORK/$log.log" 2>&1 &
  PIDS+=("$!")
}

for ns in "$NS_S" "$NS_R" "$NS_C"; do
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  # no DAD, no RAs: addresses usable at once, clients do not wait
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
in_ns "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

ip link add srv0 netns "$NS_S" type veth peer name rup netns "$NS_R"
ip link add cli0 netns "$NS_C" address 02:00:00:00:00:c1 type veth peer name rdn netns "$NS_R"
in_ns "$NS_S" ip addr add 10.0.1.1/24 dev srv0
in_ns "$NS_S" ip -6 addr add fd00:1::1/64 dev srv0 nodad
in_ns "$NS_R" ip addr add 10.0.1.2/24 dev rup
in_ns "$NS_R" ip -6 addr add fd00:1::2/64 dev rup nodad
in_ns "$NS_R" ip addr add 10.0.2.1/24 dev rdn
in_ns "$NS_R" ip -6 addr add fd00:2::1/64 dev rdn nodad
for pair in "$NS_S srv0" "$NS_R rup" "$NS_R rdn" "$NS_C cli0"; do
  set -- $pair
  # veth hands CHECKSUM_PARTIAL packets along with the UDP checksum not yet filled in,
  # and that is what tshark would record: make the kernel compute real checksums.
  in_ns "$1" ethtool -K "$2" tx off >/dev/null
  in_ns "$1" ip link set "$2" up
done
in_ns "$NS_S" ip route add 10.0.2.0/24 via 10.0.1.2
in_ns "$NS_S" ip -6 route add fd00:2::/64 via fd00:1::2
sleep 1

cat >"$WORK/dhcpd.conf" <<'CONF'
authoritative;
default-lease-time 600;
max-lease-time 7200;
ping-check false;
subnet 10.0.1.0 netmask 255.255.255.0 { }
subnet 10.0.2.0 netmask 255.255.255.0 {
  range 10.0.2.100 10.0.2.200;
  option routers 10.0.2.1;
}
CONF
cat >"$WORK/dhcpd6.conf" <<'CONF'
authoritative;
default-lease-time 600;
preferred-lifetime 300;
subnet6 fd00:1::/64 { }
subnet6 fd00:2::/64 {
  range6 fd00:2::100 fd00:2::200;
  prefix6 fd00:10:0:100:: fd00:10:0:f00:: /56;
}
CONF
touch "$WORK/dhcpd.leases" "$WORK/dhcpd6.leases"

capture() { # capture NAME : start tshark in the relay ns on both links
  local f='udp port 67 or udp port 68 or udp port 546 or udp port 547'
  bg "$NS_R" "tshark-$1" tshark -q -n -f "$f" -i rup -f "$f" -i rdn -w "$WORK/$1.pcapng"
  TSHARK_PID="${PIDS[-1]}"
  sleep 3
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- DHCPv4: DISCOVER/OFFER/REQUEST/ACK through dhcrelay -4 -a (option 82) ----
bg "$NS_S" dhcpd4 dhcpd -f -4 -cf "$WORK/dhcpd.conf" -lf "$WORK/dhcpd.leases" -pf "$WORK/dhcpd4.pid" srv0
D4="${PIDS[-1]}"
bg "$NS_R" relay4 dhcrelay -d -4 -a -pf "$WORK/relay4.pid" -id rdn -iu rup 10.0.1.1
R4="${PIDS[-1]}"
capture v4; T4="$TSHARK_PID"
bg "$NS_C" dhclient4 dhclient -d -4 -sf /bin/true -lf "$WORK/dhclient4.leases" -pf "$WORK/dhclient4.pid" cli0
C4="${PIDS[-1]}"
for _ in $(seq 30); do grep -q DHCPACK "$WORK/dhclient4.log" && break; sleep 0.5; done
sleep 1
stop "$C4"; stop "$T4"; stop "$R4"; stop "$D4"

# ---- DHCPv6: SOLICIT/ADVERTISE/REQUEST/REPLY (IA_NA + IA_PD) through dhcrelay -6 -I ----
bg "$NS_S" dhcpd6 dhcpd -f -6 -cf "$WORK/dhcpd6.conf" -lf "$WORK/dhcpd6.leases" -pf "$WORK/dhcpd6.pid" srv0
D6="${PIDS[-1]}"
bg "$NS_R" relay6 dhcrelay -d -6 -I -pf "$WORK/relay6.pid" -l rdn -u fd00:1::1%rup
R6="${PIDS[-1]}"
capture v6; T6="$TSHARK_PID"
bg "$NS_C" dhclient6 dhclient -d -6 -N -P -sf /bin/true -lf "$WORK/dhclient6.leases" -pf "$WORK/dhclient6.pid" cli0
C6="${PIDS[-1]}"
for _ in $(seq 40); do grep -q 'Reply message' "$WORK/dhclient6.log" && break; sleep 0.5; done
sleep 1
stop "$C6"; stop "$T6"; stop "$R6"; stop "$D6"

# ---- pcapng → golden JSON ----
export_json() { # export_json NAME OUT
  tshark -r "$WORK/$1.pcapng" -T json -x --no-duplicate-keys >"$WORK/$1.json"
  "$PY" - "$WORK/$1.json" "$HERE/$2" <<'PYEOF'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
packets = json.load(open(src))
def flat(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k.endswith('_raw'):
                continue
            if isinstance(v, (dict, list)) and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                if isinstance(v, list):
                    for x in v: flat(x, out) if isinstance(x, dict) else out.setdefault(k, []).append(x)
                else:
                    flat(v, out)
            elif isinstance(v, list):
                out.setdefault(k, []).extend(v)
            else:
                out.setdefault(k, []).append(v)
    elif isinstance(node, list):
        for x in node: flat(x, out)
result = []
for p in packets:
    layers = p['_source']['layers']
    if 'dhcp' not in layers and 'dhcpv6' not in layers:
        continue   # neighbour discovery, MLD, ICMP: not golden vectors
    raw = layers['frame_raw'][0]
    fields = {}
    for name in ('ip', 'ipv6', 'udp', 'dhcp', 'dhcpv6'):
        if name in layers:
            flat(layers[name], fields)
    result.append({
        'frame': int(layers['frame']['frame.number']),
        'iface': layers['frame'].get('frame.interface_id_tree', {}).get('frame.interface_name', ''),
        'ipHex': raw[28:],   # strip the 14-byte Ethernet header (veth)
        'fields': fields,
    })
json.dump(result, open(dst, 'w'), indent=1, sort_keys=False)
print(dst, len(result), 'packets')
PYEOF
}
export_json v4 dhcp4-relay.json
export_json v6 dhcp6-relay.json
