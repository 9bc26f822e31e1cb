#!/usr/bin/python3
"""Sends a UDP datagram to every channel given, every INTERVAL seconds, until killed:

  mc-send.py INTERVAL IFNAME SOURCE,GROUP...

Each channel's socket is bound to its source address, so (S1, G) and (S2, G) leave the
same host as two channels; TTL / hop limit 16, so the router can forward them.
"""
import socket
import sys
import time

PORT = 5001


def main():
    interval, ifname = float(sys.argv[1]), sys.argv[2]
    ifindex = socket.if_nametoindex(ifname)
    socks = []
    for ch in sys.argv[3:]:
        src, grp = ch.split(',')
        if ':' in src:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 16)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 16)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
        s.bind((src, 0))
        socks.append((s, grp))
    print('sending', flush=True)
    n = 0
    while True:
        for s, grp in socks:
            try:
                s.sendto(b'gleand-mc %d' % n, (grp, PORT))
            except OSError:
                pass
        n += 1
        time.sleep(interval)


main()
