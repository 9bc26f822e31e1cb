/*
 * dhcpgen: the relay benchmark's load generator (built by test/bench/relay.ts with cc).
 *
 * Sends DHCPDISCOVER (-f 4) or SOLICIT (-f 6) frames on an AF_PACKET socket at a fixed
 * rate for a number of seconds, each from a distinct client, and counts the replies
 * (BOOTREPLY to port 68, ADVERTISE to port 546) that come back on the same link:
 *
 *   client i (0 <= i < rate * seconds):
 *     v4  chaddr and Ethernet source 02:RR:i(32 bits), xid = i; broadcast flag clear, so
 *         the relay must address the OFFER to the client's MAC (RFC 2131 §4.1)
 *     v6  DUID-LL 0e:RR:i(32 bits) (a distinct client per message), transaction-id = i
 *         (24 bits); Ethernet source and link-local from a pool of -p MACs
 *         02:RR:ff:00:00:j, because a relay that answers over UDP (ISC dhcrelay) resolves
 *         every peer-address through the neighbour table, which the kernel shares
 *         between all namespaces of the host (gc_thresh3 1024): distinct link-locals
 *         would measure that table, not the relay, and disturb other namespaces.
 *
 * A reply counts once per client (bitmap); duplicates are counted separately. The
 * receive side runs in its own thread with a BPF filter, until -w seconds after the
 * last request. Output: one JSON line on stdout. `-P` prints the v6 pool (link-local
 * and MAC, one per line) so the harness can pre-resolve them.
 *
 *   dhcpgen -i eth0 -f 4|6 -r RATE -d SECONDS [-w WAIT] [-t RUNTAG] [-p POOL] [-P]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int family = 4, pool = 64;
static double rate = 1000, seconds = 1, waitSec = 1;
static unsigned tag = 0x42;
static const char *ifname = "eth0";
static int ifindex;
static uint64_t total;            /* clients to send */
static uint8_t *seen;             /* reply bitmap, one bit per client */
static volatile uint64_t replies, dups, foreign;
static volatile int stop_rx;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) s += (uint32_t)p[n - 1] << 8;
  return s;
}
static uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

static void client_mac(uint8_t *m, uint8_t first, uint32_t i) {
  m[0] = first; m[1] = (uint8_t)tag; put32(m + 2, i);
}
/* The v6 pool does not depend on the run tag, so the harness resolves it once. */
static void pool_mac(uint8_t *m, uint32_t j) {
  m[0] = 0x02; m[1] = 0x00; m[2] = 0xff; m[3] = 0; m[4] = (uint8_t)(j >> 8); m[5] = (uint8_t)j;
}
/* v6 Ethernet source: one of the pool, or (-p 0) the client's own MAC. */
static void source_mac6(uint8_t *m, uint32_t i) {
  if (pool == 0) client_mac(m, 0x02, i); else pool_mac(m, i % (uint32_t)pool);
}
static void link_local(uint8_t *a, const uint8_t *mac) { /* RFC 4291 App. A, modified EUI-64 */
  memset(a, 0, 16);
  a[0] = 0xfe; a[1] = 0x80;
  a[8] = mac[0] ^ 0x02; a[9] = mac[1]; a[10] = mac[2]; a[11] = 0xff; a[12] = 0xfe;
  a[13] = mac[3]; a[14] = mac[4]; a[15] = mac[5];
}

/* Ethernet + IPv4 + UDP + BOOTP, padded to the 300-byte BOOTP minimum: a DHCPDISCOVER,
 * or (exchange mode) a DHCPREQUEST for `offered` from the server `server` (RFC 2131 §4.3.2). */
static size_t build4(uint8_t *f, uint32_t i, const uint8_t *offered, const uint8_t *server) {
  uint8_t mac[6];
  client_mac(mac, 0x02, i);
  memset(f, 0, 14 + 20 + 8 + 300);
  memset(f, 0xff, 6);
  memcpy(f + 6, mac, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
  b[0] = 1; b[1] = 1; b[2] = 6; put32(b + 4, i);
  memcpy(b + 28, mac, 6);
  put32(b + 236, 0x63825363);
  uint8_t *o = b + 240;
  *o++ = 53; *o++ = 1; *o++ = offered ? 3 : 1;                  /* DHCPREQUEST : DHCPDISCOVER */
  *o++ = 61; *o++ = 7; *o++ = 1; memcpy(o, mac, 6); o += 6;      /* client identifier */
  if (offered) {
    *o++ = 50; *o++ = 4; memcpy(o, offered, 4); o += 4;          /* requested IP address */
    *o++ = 54; *o++ = 4; memcpy(o, server, 4); o += 4;           /* server identifier */
  }
  *o++ = 55; *o++ = 3; *o++ = 1; *o++ = 3; *o++ = 6;            /* parameter request list */
  *o++ = 255;
  size_t blen = 300;
  ip[0] = 0x45; put16(ip + 2, (uint16_t)(20 + 8 + blen)); ip[8] = 64; ip[9] = 17;
  memset(ip + 16, 0xff, 4);                                       /* 0.0.0.0 -> 255.255.255.255 */
  put16(ip + 10, fold(sum16(ip, 20, 0)));
  put16(udp, 68); put16(udp + 2, 67); put16(udp + 4, (uint16_t)(8 + blen));
  uint32_t s = sum16(ip + 12, 8, 0) + 17 + 8 + blen;
  uint16_t c = fold(sum16(udp, 8 + blen, s));
  put16(udp + 6, c ? c : 0xffff);
  return 14 + 20 + 8 + blen;
}

/* Ethernet + IPv6 + UDP + SOLICIT (Client Identifier DUID-LL, Elapsed Time, IA_NA), or
 * (exchange mode) a REQUEST carrying the ADVERTISE's Server Identifier and IA_NA
 * (RFC 8415 §18.2.2); `opts` are those options as received, whole. */
static size_t build6(uint8_t *f, uint32_t i, const uint8_t *opts, size_t optsLen) {
  uint8_t mac[6], duidmac[6];
  source_mac6(mac, i);
  client_mac(duidmac, 0x0e, i);
  uint8_t *ip = f + 14, *udp = ip + 40, *d = udp + 8, *o;
  f[0] = 0x33; f[1] = 0x33; f[2] = 0; f[3] = 1; f[4] = 0; f[5] = 2;
  memcpy(f + 6, mac, 6);
  put16(f + 12, 0x86dd);
  memset(ip, 0, 40);
  ip[0] = 0x60; ip[6] = 17; ip[7] = 1;
  link_local(ip + 8, mac);
  uint8_t dst[16] = { 0xff, 0x02, [13] = 1, [14] = 0, [15] = 2 };
  memcpy(ip + 24, dst, 16);
  d[0] = opts ? 3 : 1; d[1] = (uint8_t)(i >> 16); d[2] = (uint8_t)(i >> 8); d[3] = (uint8_t)i;
  o = d + 4;
  put16(o, 1); put16(o + 2, 10); put16(o + 4, 3); put16(o + 6, 1); memcpy(o + 8, duidmac, 6); o += 14;
  put16(o, 8); put16(o + 2, 2); put16(o + 4, 0); o += 6;
  if (opts) { memcpy(o, opts, optsLen); o += optsLen; }
  else { put16(o, 3); put16(o + 2, 12); put32(o + 4, 1); put32(o + 8, 0); put32(o + 12, 0); o += 16; }
  size_t dlen = (size_t)(o - d), ulen = 8 + dlen;
  put16(ip + 4, (uint16_t)ulen);
  put16(udp, 546); put16(udp + 2, 547); put16(udp + 4, (uint16_t)ulen); put16(udp + 6, 0);
  uint32_t s = sum16(ip + 8, 32, 0) + (uint32_t)ulen + 17;
  uint16_t c = fold(sum16(udp, ulen, s));
  put16(udp + 6, c ? c : 0xffff);
  return 14 + 40 + ulen;
}

static int open_packet(void) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) { perror("socket(AF_PACKET)"); exit(2); }
  return fd;
}

static int txfd;
static struct sockaddr_ll txTo;
static int exchange;                 /* -x: answer OFFER/ADVERTISE with REQUEST */
static uint8_t *done;                /* exchange mode: ACK/REPLY seen, one bit per client */
static uint8_t (*addr)[16];          /* exchange mode: the address each client was given */
static volatile uint64_t frames, completed;

static int test_set(uint8_t *bits, uint64_t id) {
  if (bits[id >> 3] & (1u << (id & 7))) return 1;
  bits[id >> 3] |= (uint8_t)(1u << (id & 7));
  return 0;
}

static void send_frame(const uint8_t *f, size_t len) {
  for (int k = 0; k < 100; k++) {
    if (sendto(txfd, f, len, 0, (struct sockaddr *)&txTo, sizeof txTo) >= 0) return;
    if (errno != ENOBUFS && errno != EAGAIN) return;
    usleep(50);
  }
}

/* DHCPv4 reply in m[0..n): OFFER -> REQUEST (exchange mode), ACK -> done. */
static void on_reply4(const uint8_t *m, size_t n, uint64_t id) {
  int type = 0; const uint8_t *server = NULL;
  for (size_t i = 240; i + 1 < n && m[i] != 255;) {
    if (m[i] == 0) { i++; continue; }
    size_t len = m[i + 1];
    if (i + 2 + len > n) break;
    if (m[i] == 53 && len == 1) type = m[i + 2];
    if (m[i] == 54 && len == 4) server = m + i + 2;
    i += 2 + len;
  }
  if (!exchange) return;
  if (type == 2 && server) {
    uint8_t f[1024];
    send_frame(f, build4(f, (uint32_t)id, m + 16, server));
  } else if (type == 5 && !test_set(done, id)) {
    memcpy(addr[id], m + 16, 4);
    completed++;
  }
}

/* DHCPv6 reply: ADVERTISE -> REQUEST (exchange mode), REPLY with an IA_NA address -> done. */
static void on_reply6(const uint8_t *m, size_t n, uint64_t id) {
  if (!exchange) return;
  uint8_t opts[512]; size_t optsLen = 0; const uint8_t *ia = NULL;
  for (size_t i = 4; i + 4 <= n;) {
    size_t code = (size_t)(m[i] << 8 | m[i + 1]), len = (size_t)(m[i + 2] << 8 | m[i + 3]);
    if (i + 4 + len > n) return;
    if ((code == 2 || code == 3) && optsLen + 4 + len <= sizeof opts) { memcpy(opts + optsLen, m + i, 4 + len); optsLen += 4 + len; }
    if (code == 3 && len >= 12 + 28 && (m[i + 16] << 8 | m[i + 17]) == 5) ia = m + i + 20;
    i += 4 + len;
  }
  if (m[0] == 2 && ia) {
    uint8_t f[1024];
    send_frame(f, build6(f, (uint32_t)id, opts, optsLen));
  } else if (m[0] == 7 && ia && !test_set(done, id)) {
    memcpy(addr[id], ia, 16);
    completed++;
  }
}

static void *rx_main(void *arg) {
  (void)arg;
  int fd = open_packet();
  /* UDP to port 68 (v4, IHL 5) or 546 (v6, next header UDP), not our own frames. */
  uint16_t et = family == 4 ? 0x0800 : 0x86dd;
  uint32_t protoOff = family == 4 ? 23 : 20, portOff = family == 4 ? 36 : 56, port = family == 4 ? 68 : 546;
  struct sock_filter prog[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 6, 0),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, et, 0, 4),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, protoOff),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 2),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, portOff),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, 0),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
  };
  struct sock_fprog fp = { sizeof prog / sizeof prog[0], prog };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0) { perror("SO_ATTACH_FILTER"); exit(2); }
  int rcv = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex };
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind rx"); exit(2); }
  uint8_t buf[2048];
  size_t off = family == 4 ? 14 + 20 + 8 : 14 + 40 + 8;
  while (!stop_rx) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 50) <= 0) continue;
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      if ((size_t)n < off + 4) { foreign++; continue; }
      const uint8_t *m = buf + off;
      size_t mlen = (size_t)n - off;
      uint64_t id;
      if (family == 4) {
        if (m[0] != 2 || mlen < 240) { foreign++; continue; }
        id = (uint32_t)(m[4] << 24 | m[5] << 16 | m[6] << 8 | m[7]);
      } else {
        if (m[0] != 2 && m[0] != 7) { foreign++; continue; } /* ADVERTISE, REPLY */
        id = (uint32_t)(m[1] << 16 | m[2] << 8 | m[3]);
      }
      if (id >= total) { foreign++; continue; }
      frames++;
      if (test_set(seen, id)) dups++;
      else replies++;
      if (family == 4) on_reply4(m, mlen, id); else on_reply6(m, mlen, id);
    }
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  int opt, printPool = 0;
  const char *outPath = NULL;
  double count = 0;
  while ((opt = getopt(argc, argv, "i:f:r:d:w:t:p:Pn:xo:")) != -1) {
    switch (opt) {
      case 'i': ifname = optarg; break;
      case 'f': family = atoi(optarg); break;
      case 'r': rate = atof(optarg); break;
      case 'd': seconds = atof(optarg); break;
      case 'w': waitSec = atof(optarg); break;
      case 't': tag = (unsigned)strtoul(optarg, NULL, 0) & 0xff; break;
      case 'p': pool = atoi(optarg); break;
      case 'P': printPool = 1; break;
      case 'n': count = atof(optarg); break;
      case 'x': exchange = 1; break;
      case 'o': outPath = optarg; break;
      default:
        fprintf(stderr, "usage: dhcpgen -i IF -f 4|6 -r RATE (-d SECONDS | -n COUNT) [-w WAIT] [-t TAG] [-p POOL] [-x] [-o FILE] [-P]\n");
        return 2;
    }
  }
  if (pool < 0 || pool > 65535) pool = 64;
  if (printPool) {
    for (int j = 0; j < pool; j++) {
      uint8_t mac[6], ll[16]; char s[INET6_ADDRSTRLEN];
      pool_mac(mac, (uint32_t)j);
      link_local(ll, mac);
      inet_ntop(AF_INET6, ll, s, sizeof s);
      printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", s, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    }
    return 0;
  }
  ifindex = (int)if_nametoindex(ifname);
  if (!ifindex) { perror(ifname); return 2; }
  total = count > 0 ? (uint64_t)count : (uint64_t)(rate * seconds);
  if (family == 6 && total > 0xffffff) total = 0xffffff;
  seen = calloc(total / 8 + 1, 1);
  done = calloc(total / 8 + 1, 1);
  addr = exchange ? calloc(total, 16) : NULL;
  txfd = open_packet();
  txTo = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex, .sll_halen = 6 };
  pthread_t rx;
  pthread_create(&rx, NULL, rx_main, NULL);
  usleep(50000); /* receiver bound before the first request */

  int fd = txfd;
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  int snd = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd);
  struct sockaddr_ll to = txTo;
  uint8_t frame[1024];
  uint64_t sent = 0, errors = 0;
  double t0 = now_s();
  while (sent < total) {
    double due = (now_s() - t0) * rate;
    uint64_t upto = due > (double)total ? total : (uint64_t)due;
    while (sent < upto) {
      size_t len = family == 4 ? build4(frame, (uint32_t)sent, NULL, NULL) : build6(frame, (uint32_t)sent, NULL, 0);
      if (sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        if (errno == ENOBUFS || errno == EAGAIN) { errors++; usleep(50); continue; }
        perror("sendto"); return 2;
      }
      sent++;
    }
    usleep(200);
  }
  double t1 = now_s();
  while (now_s() - t1 < waitSec) usleep(10000);
  stop_rx = 1;
  pthread_join(rx, NULL);
  if (outPath) { /* exchange mode: one line per completed client: family, MAC, address */
    FILE *out = fopen(outPath, "w");
    if (!out) { perror(outPath); return 2; }
    for (uint64_t i = 0; i < total; i++) {
      if (!(done[i >> 3] & (1u << (i & 7)))) continue;
      uint8_t mac[6]; char a[INET6_ADDRSTRLEN];
      if (family == 4) client_mac(mac, 0x02, (uint32_t)i); else source_mac6(mac, (uint32_t)i);
      inet_ntop(family == 4 ? AF_INET : AF_INET6, addr[i], a, sizeof a);
      fprintf(out, "%d %02x:%02x:%02x:%02x:%02x:%02x %s\n", family, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], a);
    }
    fclose(out);
  }
  printf("{\"family\":%d,\"rate\":%.0f,\"sent\":%llu,\"sendSeconds\":%.4f,\"replies\":%llu,\"duplicates\":%llu,"
         "\"frames\":%llu,\"completed\":%llu,\"foreign\":%llu,\"sendRetries\":%llu}\n",
         family, rate, (unsigned long long)sent, t1 - t0, (unsigned long long)replies, (unsigned long long)dups,
         (unsigned long long)frames, (unsigned long long)completed, (unsigned long long)foreign, (unsigned long long)errors);
  return 0;
}
