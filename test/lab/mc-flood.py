#!/usr/bin/python3
"""Hostile IGMPv3 / MLDv2 reports out of IFNAME (scapy): COUNT reports whose record
counts lie (65535 records claimed, a few present), and COUNT well-formed reports each
joining MANY distinct sources of one SSM group, so the per-port bounds are exercised.

  mc-flood.py IFNAME COUNT
"""
import sys

from scapy.all import Ether, IP, IPv6, IPv6ExtHdrHopByHop, sendp
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mr, IGMPv3gr
from scapy.layers.inet import IPOption_Router_Alert
from scapy.layers.inet6 import ICMPv6MLReport2, ICMPv6MLDMultAddrRec, RouterAlert


def main():
    ifname, count = sys.argv[1], int(sys.argv[2])
    frames = []
    for i in range(count):
        # RFC 3376 §4.2: Number of Group Records = 65535, one record present.
        rec = IGMPv3gr(rtype=1, maddr='232.9.%d.%d' % ((i >> 8) & 255, i & 255), srcaddrs=['10.0.0.9'])
        frames.append(Ether(dst='01:00:5e:00:00:16') / IP(dst='224.0.0.22', ttl=1, options=[IPOption_Router_Alert()]) /
                      IGMPv3(type=0x22) / IGMPv3mr(numgrp=65535, records=[rec]))
        # A well-formed report joining 200 sources of one SSM group (max_sources bounds it).
        srcs = ['10.%d.%d.%d' % (9, (i + k) >> 8 & 255, (i + k) & 255) for k in range(200)]
        frames.append(Ether(dst='01:00:5e:00:00:16') / IP(dst='224.0.0.22', ttl=1, options=[IPOption_Router_Alert()]) /
                      IGMPv3(type=0x22) / IGMPv3mr(records=[IGMPv3gr(rtype=5, maddr='232.8.0.%d' % (i & 255), srcaddrs=srcs)]))
        # MLDv2 with a lying record count (RFC 3810 §5.2).
        rec6 = ICMPv6MLDMultAddrRec(rtype=1, dst='ff3e::9:%x' % i, sources=['fd00::9'])
        frames.append(Ether(dst='33:33:00:00:00:16') / IPv6(src='fe80::9', dst='ff02::16', hlim=1) /
                      IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport2(records_number=65535, records=[rec6]))
    if ifname == '-':
        for f in frames[:3]:
            f.show2()
        return
    sendp(frames, iface=ifname, verbose=False)
    print('sent %d' % len(frames), flush=True)


main()
