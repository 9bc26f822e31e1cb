#!/usr/bin/python3
"""A multicast receiver joining with the real kernel's socket API, so the IGMP / MLD
reports on the wire are the kernel's own (RFC 3678 socket interface):

  mc-join.py 4 GROUP IFADDR include SOURCE...   IP_ADD_SOURCE_MEMBERSHIP per source
  mc-join.py 6 GROUP IFNAME include SOURCE...   MCAST_JOIN_SOURCE_GROUP per source
  mc-join.py 4|6 GROUP IF exclude               any-source join (EXCLUDE {}): IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP
  mc-join.py 4|6 GROUP IF first TIMEOUT SOURCE  include, then exit at the first datagram (the join benchmark)

It counts the datagrams its socket receives per source, prints "joined" once the
socket options are set, and on SIGTERM closes the socket (the kernel then reports the
leave) and prints the counts as JSON.

In `first` mode it prints instead, as JSON, the wall-clock time (time.time(), the clock
tshark and `ip -ts monitor` stamp with) just before the join's socket option and when the
first datagram of the channel arrived (`first` null after TIMEOUT seconds), and exits:
closing the socket is the leave.
"""
import json
import signal
import socket
import struct
import sys
import time

PORT = 5001
IP_ADD_SOURCE_MEMBERSHIP = 39
MCAST_JOIN_SOURCE_GROUP = 46


def sockaddr_in6(addr):
    # struct sockaddr_in6 inside a 128-byte sockaddr_storage (family in host order).
    sa = struct.pack('=HHI16sI', socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, addr), 0)
    return sa + bytes(128 - len(sa))


def main():
    family, group, iface, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    timeout = float(sys.argv.pop(5)) if mode == 'first' else None
    sources = sys.argv[5:]
    af = socket.AF_INET if family == '4' else socket.AF_INET6
    s = socket.socket(af, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', PORT))
    joined_at = time.time()
    if family == '4':
        g = socket.inet_aton(group)
        i = socket.inet_aton(iface)
        if mode in ('include', 'first'):
            for src in sources:
                # struct ip_mreq_source { imr_multiaddr; imr_interface; imr_sourceaddr; } (linux/in.h)
                s.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, g + i + socket.inet_aton(src))
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, g + i)
    else:
        ifindex = socket.if_nametoindex(iface)
        if mode in ('include', 'first'):
            for src in sources:
                # struct group_source_req { u32 gsr_interface; (pad) sockaddr_storage group, source; }
                req = struct.pack('=I4x', ifindex) + sockaddr_in6(group) + sockaddr_in6(src)
                s.setsockopt(socket.IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, req)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                         socket.inet_pton(socket.AF_INET6, group) + struct.pack('=I', ifindex))
    if mode == 'first':
        s.settimeout(timeout)
        try:
            s.recvfrom(2048)
            first = time.time()
        except socket.timeout:
            first = None
        s.close()
        print(json.dumps({'join': joined_at, 'first': first}), flush=True)
        return
    counts = {}

    def done(*_):
        s.close()
        print(json.dumps(counts), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, done)
    print('joined', flush=True)
    while True:
        try:
            _, addr = s.recvfrom(2048)
        except OSError:
            continue
        counts[addr[0]] = counts.get(addr[0], 0) + 1


main()
