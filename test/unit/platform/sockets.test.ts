/** The SOCKET / SEEN / READ / KERNEL-DROPPED table of `gleand status`, from the drivers' sections. */
import { describe, expect, it } from 'vitest';
import { renderSockets, socketRows } from '../../../platform/cli/sockets';

const drivers = {
  packet: { ports: [{ port: 'lan1', device: 'eth1', ifindex: 3, read: 57751, seen: 200000, drops: 142249 }] },
  udp: { sockets: [
    { address: '0.0.0.0', port: 67, receives: false, read: 0, rcvbufBytes: 8388608, drops: 12 },
    { address: '10.1.0.1', port: 67, receives: true, read: 5, rcvbufBytes: 8388608, drops: 0 },
    { address: '::', port: 547, receives: true, read: 2, rcvbufBytes: 8388608, drops: null },
  ] },
  kernel: { sockets: [{ socket: 'rtnl', drops: 0 }, { socket: 'monitor/route', drops: 7 }], nft: { kernelDrops: 0 } },
  passive: { kernelDrops: [{ device: 'eth0', family: 4, drops: 3 }] },
};

describe('socket table', () => {
  it('has one row per socket, with what gleand read and what the kernel dropped', () => {
    expect(socketRows(drivers)).toEqual([
      { socket: 'packet lan1 (eth1)', seen: 200000, read: 57751, drops: 142249 },
      { socket: 'udp 0.0.0.0:67 (send only)', seen: null, read: 0, drops: 12 },
      { socket: 'udp 10.1.0.1:67', seen: null, read: 5, drops: 0 },
      { socket: 'udp [::]:547', seen: null, read: 2, drops: null },
      { socket: 'netlink rtnl', seen: null, read: null, drops: 0 },
      { socket: 'netlink monitor/route', seen: null, read: null, drops: 7 },
      { socket: 'netlink nfnetlink', seen: null, read: null, drops: 0 },
      { socket: 'raw eth0 v4', seen: null, read: null, drops: 3 },
    ]);
    const text = renderSockets(drivers);
    expect(text.split('\n')[0]).toMatch(/^SOCKET\s+SEEN\s+READ\s+KERNEL-DROPPED$/);
    expect(text).toMatch(/^packet lan1 \(eth1\)\s+200000\s+57751\s+142249$/m);
    expect(text).toMatch(/^udp \[::\]:547\s+-\s+2\s+-$/m);
  });

  it('a status without drivers gives an empty table, not an error', () => {
    expect(socketRows({})).toEqual([]);
    expect(renderSockets({ packet: 'nonsense' as never })).toBe('SOCKET  SEEN  READ  KERNEL-DROPPED');
  });
});
