/*
 * dhcpsink: the relay benchmark's server (built by test/bench/relay.ts with cc).
 *
 * Counts every relayed request that reaches the server namespace and answers each one
 * at once, so the round trip measures the relay, not a lease database:
 *   DHCPv4  a BOOTREQUEST with giaddr set  -> a DHCPOFFER to giaddr:67 that echoes
 *           option 82 (RFC 3046 §2.2); yiaddr from the pool 10.1.0.2-254 by xid
 *   DHCPv6  a RELAY-FORW (RFC 8415 §9)      -> a RELAY-REPL to its source, same hop-count,
 *           link-address and peer-address, Interface-ID echoed, wrapping an ADVERTISE
 *           with the client's Client Identifier, a Server Identifier and an IA_NA
 * ISC dhcpd is not used here: it allocates and writes a lease per DISCOVER and
 * tops out far below the rates the relays are offered (see README).
 *
 * SIGUSR1 prints the counters as one JSON line on stdout; SIGTERM prints and exits.
 *
 *   dhcpsink [-b RCVBUF_BYTES]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
static volatile sig_atomic_t dump, quit;
static unsigned long long rx4, rx6, tx4, tx6, bad, txErr;

static void on_sig(int s) { if (s == SIGUSR1) dump = 1; else quit = 1; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int open_udp(int fam, int port, int rcvbuf) {
  int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;
  if (fd < 0) { perror("socket"); exit(2); }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &rcvbuf, sizeof rcvbuf);
  if (fam == AF_INET) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind 67"); exit(2); }
  } else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind 547"); exit(2); }
  }
  return fd;
}

/* BOOTREQUEST -> DHCPOFFER; returns its length, 0 to ignore. */
static size_t offer(const uint8_t *q, size_t n, uint8_t *r, struct sockaddr_in *to) {
  if (n < 240 || q[0] != 1 || get16(q + 236) != 0x6382) return 0;
  uint32_t giaddr; memcpy(&giaddr, q + 24, 4);
  if (giaddr == 0) return 0;
  memset(r, 0, 300);
  memcpy(r, q, 28 + 16);            /* op..giaddr, chaddr */
  r[0] = 2;
  uint32_t xid = (uint32_t)(q[4] << 24 | q[5] << 16 | q[6] << 8 | q[7]);
  r[16] = 10; r[17] = 1; r[18] = 0; r[19] = (uint8_t)(2 + xid % 253);
  put32(r + 236, 0x63825363);
  uint8_t *o = r + 240;
  *o++ = 53; *o++ = 1; *o++ = 2;
  *o++ = 54; *o++ = 4; *o++ = 10; *o++ = 0; *o++ = 0; *o++ = 2;
  *o++ = 51; *o++ = 4; put32(o, 600); o += 4;
  *o++ = 1; *o++ = 4; *o++ = 255; *o++ = 255; *o++ = 255; *o++ = 0;
  *o++ = 3; *o++ = 4; *o++ = 10; *o++ = 1; *o++ = 0; *o++ = 1;
  for (size_t i = 240; i + 1 < n && q[i] != 255;) {   /* echo option 82 */
    if (q[i] == 0) { i++; continue; }
    size_t len = q[i + 1];
    if (i + 2 + len > n) break;
    if (q[i] == 82) { memcpy(o, q + i, 2 + len); o += 2 + len; }
    i += 2 + len;
  }
  *o++ = 255;
  size_t len = (size_t)(o - r);
  if (len < 300) len = 300;
  to->sin_family = AF_INET; to->sin_port = htons(67); memcpy(&to->sin_addr, &giaddr, 4);
  return len;
}

/* RELAY-FORW(SOLICIT) -> RELAY-REPL(ADVERTISE); returns its length, 0 to ignore. */
static size_t advertise(const uint8_t *q, size_t n, uint8_t *r) {
  if (n < 34 || q[0] != 12) return 0;
  const uint8_t *iface = NULL, *msg = NULL; size_t ifaceLen = 0, msgLen = 0;
  for (size_t i = 34; i + 4 <= n;) {
    size_t code = get16(q + i), len = get16(q + i + 2);
    if (i + 4 + len > n) return 0;
    if (code == 18) { iface = q + i + 4; ifaceLen = len; }
    if (code == 9) { msg = q + i + 4; msgLen = len; }
    i += 4 + len;
  }
  if (!msg || msgLen < 4 || msg[0] != 1) return 0;
  const uint8_t *cid = NULL; size_t cidLen = 0;
  for (size_t i = 4; i + 4 <= msgLen;) {
    size_t code = get16(msg + i), len = get16(msg + i + 2);
    if (i + 4 + len > msgLen) return 0;
    if (code == 1) { cid = msg + i + 4; cidLen = len; }
    i += 4 + len;
  }
  if (!cid) return 0;
  uint8_t adv[512], *o = adv;
  memcpy(o, msg, 4); o[0] = 2; o += 4;                                   /* ADVERTISE, same xid */
  put16(o, 1); put16(o + 2, (uint16_t)cidLen); memcpy(o + 4, cid, cidLen); o += 4 + cidLen;
  static const uint8_t sid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 2 };
  put16(o, 2); put16(o + 2, sizeof sid); memcpy(o + 4, sid, sizeof sid); o += 4 + sizeof sid;
  uint32_t xid = (uint32_t)(msg[1] << 16 | msg[2] << 8 | msg[3]);
  put16(o, 3); put16(o + 2, 12 + 28); put32(o + 4, 1); put32(o + 8, 1800); put32(o + 12, 2880); o += 16;
  put16(o, 5); put16(o + 2, 24);                                          /* IAADDR fd00:1::1:xid */
  memset(o + 4, 0, 16); o[4] = 0xfd; o[9] = 1; o[15] = 1; put32(o + 16, xid);
  put32(o + 20, 3600); put32(o + 24, 7200); o += 28;
  size_t advLen = (size_t)(o - adv);
  uint8_t *p = r;
  memcpy(p, q, 34); p[0] = 13; p += 34;
  if (iface) { put16(p, 18); put16(p + 2, (uint16_t)ifaceLen); memcpy(p + 4, iface, ifaceLen); p += 4 + ifaceLen; }
  put16(p, 9); put16(p + 2, (uint16_t)advLen); memcpy(p + 4, adv, advLen); p += 4 + advLen;
  return (size_t)(p - r);
}

static void print_counters(void) {
  printf("{\"received4\":%llu,\"received6\":%llu,\"answered4\":%llu,\"answered6\":%llu,\"ignored\":%llu,\"sendErrors\":%llu}\n",
         rx4, rx6, tx4, tx6, bad, txErr);
  fflush(stdout);
}

static void serve(int fd, int fam) {
  static uint8_t in[BATCH][1500], out[BATCH][1500];
  static struct sockaddr_in6 from[BATCH], to[BATCH];
  struct mmsghdr mi[BATCH], mo[BATCH];
  struct iovec ii[BATCH], io[BATCH];
  for (int k = 0; k < 64; k++) {  /* bounded, so the other family gets its turn */
    for (int i = 0; i < BATCH; i++) {
      ii[i] = (struct iovec){ in[i], sizeof in[i] };
      mi[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &ii[i], .msg_iovlen = 1 };
    }
    int n = recvmmsg(fd, mi, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    int m = 0;
    for (int i = 0; i < n; i++) {
      size_t len;
      if (fam == AF_INET) {
        rx4++;
        len = offer(in[i], mi[i].msg_len, out[m], (struct sockaddr_in *)&to[m]);
      } else {
        rx6++;
        len = advertise(in[i], mi[i].msg_len, out[m]);
        to[m] = from[i];
      }
      if (!len) { bad++; continue; }
      io[m] = (struct iovec){ out[m], len };
      mo[m].msg_hdr = (struct msghdr){ .msg_name = &to[m], .msg_namelen = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
                                       .msg_iov = &io[m], .msg_iovlen = 1 };
      m++;
    }
    for (int s = 0; s < m;) {
      int k2 = sendmmsg(fd, mo + s, (unsigned)(m - s), 0);
      if (k2 <= 0) { txErr += (unsigned)(m - s); break; }
      if (fam == AF_INET) tx4 += (unsigned)k2; else tx6 += (unsigned)k2;
      s += k2;
    }
  }
}

int main(int argc, char **argv) {
  int rcvbuf = 8 << 20, opt;
  while ((opt = getopt(argc, argv, "b:")) != -1) if (opt == 'b') rcvbuf = atoi(optarg);
  struct sigaction sa = { .sa_handler = on_sig };
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct pollfd p[2] = { { open_udp(AF_INET, 67, rcvbuf), POLLIN, 0 }, { open_udp(AF_INET6, 547, rcvbuf), POLLIN, 0 } };
  printf("dhcpsink: serving\n");
  fflush(stdout);
  while (!quit) {
    if (dump) { dump = 0; print_counters(); }
    int r = poll(p, 2, 100);
    if (r < 0 && errno != EINTR) { perror("poll"); return 2; }
    if (r <= 0) continue;
    if (p[0].revents & POLLIN) serve(p[0].fd, AF_INET);
    if (p[1].revents & POLLIN) serve(p[1].fd, AF_INET6);
  }
  print_counters();
  return 0;
}
