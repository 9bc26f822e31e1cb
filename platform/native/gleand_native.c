/*
 * gleand_native: the smallest socket primitive gleand needs that Node lacks
 * (netlink, raw sockets with socket options). Everything else lives in TypeScript.
 *
 * Error policy: nothing here aborts or throws on an OS error. Calls return a
 * non-negative result or -errno; the receive watcher hands errors (ENOBUFS after a
 * netlink overrun, EMSGSIZE after a truncated datagram) to the JS callback as values.
 * Only wrong argument types throw, because they are programming errors.
 *
 * Receive: a uv_poll_t per socket; on readiness we recvmsg() in a loop until EAGAIN
 * and deliver the datagrams in batches (one callback per batch, not per datagram),
 * as one Buffer plus the length of each datagram, and each sender's address in a
 * fixed NAME_BYTES slot (a packet socket's sockaddr_ll carries the ingress ifindex,
 * the packet type and the source MAC: what a relay on unnumbered ports needs).
 *
 * NAME_BYTES slot layout (32 bytes, zeroed before each recvmsg):
 *   AF_INET/AF_INET6 sockets: the sockaddr_in (16) / sockaddr_in6 (28) as received.
 *   AF_PACKET sockets:        bytes 0..19  struct sockaddr_ll
 *                             bytes 20..23 tpacket_auxdata.tp_status, host order, when
 *                                          the socket has PACKET_AUXDATA on (else 0)
 *                             bytes 24..31 zero
 * tp_status says whether the kernel has filled in / verified the transport checksum
 * (TP_STATUS_CSUMNOTREADY: a locally sent frame whose checksum a NIC would fill in,
 * e.g. a veth or tap with tx offload; TP_STATUS_CSUM_VALID: already verified).
 *
 * libuv quirk: uv_poll reports POLLERR as status UV_EBADF and stops the handle.
 * A netlink socket polls POLLERR while sk_err is ENOBUFS, so a status < 0 is not
 * trusted: we read anyway (which returns and clears the real error) and restart
 * the handle if the descriptor is still open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg (node-gyp may define it already) */
#endif
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define ARENA_BYTES (1024 * 1024)  /* batch buffer, reused */
#define SLOT_BYTES (64 * 1024)     /* room guaranteed for each datagram */
#define MAX_LENS 4096              /* datagrams per batch */
#define NAME_BYTES 32              /* sockaddr slot per datagram (sockaddr_in6 28, sockaddr_ll 20 + tp_status 4) */
#define LL_STATUS_AT 20            /* where tp_status goes in an AF_PACKET slot (see header) */
#ifndef TP_STATUS_CSUM_VALID
#define TP_STATUS_CSUM_VALID (1 << 7)
#endif

typedef struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context actx;
  int fd;
  int budget;           /* datagrams per readiness callback (0: until EAGAIN, up to 64 batches) */
  int closing;
  struct watcher *next;
} watcher_t;

typedef struct {
  watcher_t *head;
  unsigned char *arena;
  uint32_t lens[MAX_LENS];
  unsigned char names[MAX_LENS * NAME_BYTES];
} instance_t;

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static int get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < n) { napi_throw_type_error(env, NULL, "too few arguments"); return -1; }
  return 0;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return -1;
  }
  return 0;
}

/* Buffer/TypedArray bytes, or NULL+0 for null/undefined when nullable. */
static int get_bytes(napi_env env, napi_value v, void **data, size_t *len, int nullable) {
  napi_valuetype t;
  bool is_buf = false, is_ta = false;
  *data = NULL; *len = 0;
  napi_typeof(env, v, &t);
  if (nullable && (t == napi_null || t == napi_undefined)) return 0;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) return napi_get_buffer_info(env, v, data, len) == napi_ok ? 0 : -1;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt; size_t n; napi_value ab; size_t off;
    if (napi_get_typedarray_info(env, v, &tt, &n, data, &ab, &off) != napi_ok) return -1;
    if (tt != napi_uint8_array) { napi_throw_type_error(env, NULL, "expected Uint8Array"); return -1; }
    *len = n;
    return 0;
  }
  napi_throw_type_error(env, NULL, "expected a Buffer or Uint8Array");
  return -1;
}

static instance_t *inst(napi_env env) {
  void *p = NULL;
  napi_get_instance_data(env, &p);
  return (instance_t *)p;
}

/* open(domain, type, protocol) -> fd | -errno. Always non-blocking, close-on-exec. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value a[3]; int32_t d, t, p;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &d) || get_int(env, a[1], &t) || get_int(env, a[2], &p)) return NULL;
  int fd = socket(d, t | SOCK_NONBLOCK | SOCK_CLOEXEC, p);
  return num(env, fd < 0 ? -errno : fd);
}

/* setsockopt(fd, level, name, bytes) -> 0 | -errno */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  napi_value a[4]; int32_t fd, lvl, name; void *data; size_t len;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &lvl) ||
      get_int(env, a[2], &name) || get_bytes(env, a[3], &data, &len, 0)) return NULL;
  return num(env, setsockopt(fd, lvl, name, data, (socklen_t)len) < 0 ? -errno : 0);
}

/* getsockopt(fd, level, name, maxLength) -> Buffer | -errno */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  napi_value a[4], out; int32_t fd, lvl, name, max; void *data;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &lvl) ||
      get_int(env, a[2], &name) || get_int(env, a[3], &max)) return NULL;
  if (max < 0 || max > 65536) max = 65536;
  unsigned char tmp[65536];
  socklen_t len = (socklen_t)max;
  if (getsockopt(fd, lvl, name, tmp, &len) < 0) return num(env, -errno);
  CHECK(napi_create_buffer_copy(env, len, tmp, &data, &out));
  return out;
}

/* bind(fd, sockaddrBytes) -> 0 | -errno */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value a[2]; int32_t fd; void *sa; size_t len;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd) || get_bytes(env, a[1], &sa, &len, 0)) return NULL;
  return num(env, bind(fd, (struct sockaddr *)sa, (socklen_t)len) < 0 ? -errno : 0);
}

/* getsockname(fd) -> Buffer | -errno (the netlink port id lives here) */
static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  napi_value a[1], out; int32_t fd; void *data;
  struct sockaddr_storage ss; socklen_t len = sizeof ss;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return num(env, -errno);
  CHECK(napi_create_buffer_copy(env, len, &ss, &data, &out));
  return out;
}

/* sendto(fd, bytes, sockaddrBytes|null) -> bytes sent | -errno (EAGAIN, ENOBUFS included) */
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  napi_value a[3]; int32_t fd; void *buf, *sa; size_t len, salen;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &fd) || get_bytes(env, a[1], &buf, &len, 0) ||
      get_bytes(env, a[2], &sa, &salen, 1)) return NULL;
  ssize_t n;
  do n = sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)sa, (socklen_t)salen);
  while (n < 0 && errno == EINTR);
  return num(env, n < 0 ? -errno : (double)n);
}

/* sendBatch(fd, data, lengths, count, names, nameBytes) -> datagrams sent | -errno
 * Datagram i is `lengths[i]` bytes of `data`, packed in order, to the sockaddr of
 * `nameBytes` bytes at names[i * NAME_BYTES] (nameBytes 0: none, a connected socket).
 * One sendmmsg(2) for the batch instead of a sendto(2) each: the relay sends what one
 * read batch produced at once. Returns how many were sent before the first error
 * (the caller counts that one failed and resubmits the rest), or -errno if the first
 * failed. */
#define SEND_BATCH 1024 /* UIO_MAXIOV: the most sendmmsg takes in one call */
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  napi_value a[6]; int32_t fd, count, namelen; void *data, *lens, *names; size_t dlen, llen, nlen;
  if (get_args(env, info, 6, a) || get_int(env, a[0], &fd) || get_bytes(env, a[1], &data, &dlen, 0) ||
      get_int(env, a[3], &count) || get_int(env, a[5], &namelen) || get_bytes(env, a[4], &names, &nlen, 0)) return NULL;
  napi_typedarray_type tt; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, a[2], &tt, &llen, &lens, &ab, &off) != napi_ok || tt != napi_uint32_array) {
    napi_throw_type_error(env, NULL, "expected a Uint32Array of lengths");
    return NULL;
  }
  if (count < 0 || (size_t)count > llen || (size_t)count * NAME_BYTES > nlen || namelen < 0 || namelen > NAME_BYTES)
    return num(env, -EINVAL);
  static struct mmsghdr msgs[SEND_BATCH];
  static struct iovec iovs[SEND_BATCH];
  const uint32_t *len = (const uint32_t *)lens;
  size_t at = 0;
  int sent = 0;
  while (sent < count) {
    int n = 0;
    for (; n < SEND_BATCH && sent + n < count; n++) {
      uint32_t l = len[sent + n];
      if (at + l > dlen) return num(env, -EINVAL);
      iovs[n].iov_base = (unsigned char *)data + at;
      iovs[n].iov_len = l;
      memset(&msgs[n].msg_hdr, 0, sizeof msgs[n].msg_hdr);
      msgs[n].msg_hdr.msg_iov = &iovs[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      if (namelen > 0) {
        msgs[n].msg_hdr.msg_name = (unsigned char *)names + (size_t)(sent + n) * NAME_BYTES;
        msgs[n].msg_hdr.msg_namelen = (socklen_t)namelen;
      }
      at += l;
    }
    int r;
    do r = sendmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) return num(env, sent > 0 ? sent : -errno);
    sent += r;
    if (r < n) break; /* the next one would fail: the caller resubmits from there and sees why */
  }
  return num(env, sent);
}

/* Deliver one batch (data) or one error (err != 0) to JS. Exceptions the callback
 * leaves behind go to process 'uncaughtException', as for any other JS callback. */
static void deliver(watcher_t *w, int err, size_t bytes, size_t count) {
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value cb, recv, argv[4], result;
  void *data;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->cb, &cb) == napi_ok && cb != NULL) {
    instance_t *in = inst(env);
    napi_get_global(env, &recv); /* napi_make_callback needs an object */
    argv[0] = num(env, err);
    if (err == 0) {
      napi_value ab;
      void *lens;
      napi_create_buffer_copy(env, bytes, in->arena, &data, &argv[1]);
      napi_create_arraybuffer(env, count * 4, &lens, &ab);
      memcpy(lens, in->lens, count * 4);
      napi_create_typedarray(env, napi_uint32_array, count, ab, 0, &argv[2]);
      napi_create_buffer_copy(env, count * NAME_BYTES, in->names, &data, &argv[3]);
    } else {
      napi_get_null(env, &argv[1]);
      napi_get_null(env, &argv[2]);
      napi_get_null(env, &argv[3]);
    }
    if (napi_make_callback(env, w->actx, recv, cb, 4, argv, &result) == napi_pending_exception) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *h) {
  watcher_t *w = (watcher_t *)h->data;
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->actx);
  free(w);
}

static void unlink_watcher(instance_t *in, watcher_t *w) {
  for (watcher_t **p = &in->head; *p; p = &(*p)->next)
    if (*p == w) { *p = w->next; break; }
}

static void stop_watcher(instance_t *in, watcher_t *w) {
  if (w->closing) return;
  w->closing = 1;
  unlink_watcher(in, w);
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

/* Copy tpacket_auxdata.tp_status into the AF_PACKET slot (layout in the header). */
static void store_ll_status(struct msghdr *mh, unsigned char *name) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    if (c->cmsg_len < CMSG_LEN(sizeof(struct tpacket_auxdata))) continue;
    struct tpacket_auxdata aux;
    memcpy(&aux, CMSG_DATA(c), sizeof aux);
    memcpy(name + LL_STATUS_AT, &aux.tp_status, sizeof aux.tp_status);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watcher_t *w = (watcher_t *)h->data;
  instance_t *in = inst(w->env);
  size_t off = 0, count = 0, total = 0;
  (void)events;
  for (int rounds = 0; !w->closing && rounds < 64; ) {
    /* A budget keeps one flooded socket from starving the others: uv_poll is level
     * triggered, so what is left is read on the next loop iteration, after the other
     * ready descriptors (the relay's reply socket behind a flood of requests). */
    if (w->budget > 0 && total >= (size_t)w->budget) break;
    struct iovec iov = { in->arena + off, ARENA_BYTES - off };
    struct msghdr mh; memset(&mh, 0, sizeof mh);
    unsigned char *name = in->names + count * NAME_BYTES;
    memset(name, 0, NAME_BYTES);
    mh.msg_name = name; mh.msg_namelen = NAME_BYTES;
    mh.msg_iov = &iov; mh.msg_iovlen = 1;
    /* Room for PACKET_AUXDATA's cmsg; other sockets leave it empty (no cost). */
    union { struct cmsghdr align; unsigned char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))]; } ctl;
    mh.msg_control = ctl.buf; mh.msg_controllen = sizeof ctl.buf;
    ssize_t n = recvmsg(w->fd, &mh, MSG_DONTWAIT);
    if (n >= 0) store_ll_status(&mh, name);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n >= 0 && !(mh.msg_flags & MSG_TRUNC)) {
      in->lens[count++] = (uint32_t)n;
      off += (size_t)n;
      total++;
      if (ARENA_BYTES - off >= SLOT_BYTES && count < MAX_LENS && (w->budget <= 0 || total < (size_t)w->budget)) continue;
    }
    int err = n < 0 ? errno : (mh.msg_flags & MSG_TRUNC) ? EMSGSIZE : 0;
    if (count > 0) deliver(w, 0, off, count);
    off = 0; count = 0; rounds++;
    if (err != 0 && !w->closing) deliver(w, err, 0, 0);
    if (err == EBADF || err == ENOTSOCK) { if (!w->closing) stop_watcher(in, w); return; }
  }
  if (count > 0 && !w->closing) deliver(w, 0, off, count);
  if (status < 0 && !w->closing) {
    /* see header comment: restart unless the fd is really gone */
    if (fcntl(w->fd, F_GETFD) < 0 || uv_poll_start(&w->poll, UV_READABLE, on_poll) != 0) {
      deliver(w, EBADF, 0, 0);
      if (!w->closing) stop_watcher(in, w);
    }
  }
}

static watcher_t *find(instance_t *in, int fd) {
  for (watcher_t *w = in->head; w; w = w->next) if (w->fd == fd) return w;
  return NULL;
}

/* attachFilter(fd, classic BPF program as struct sock_filter[] bytes) -> 0 | -errno.
 * struct sock_fprog holds a pointer, so it cannot be passed through setsockopt(). */
static napi_value js_attach_filter(napi_env env, napi_callback_info info) {
  napi_value a[2]; int32_t fd; void *prog; size_t len;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd)) return NULL;
  if (get_bytes(env, a[1], &prog, &len, 0)) return NULL;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > 4096) return num(env, -EINVAL);
  struct sock_fprog fp = { (unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)prog };
  return num(env, setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0 ? -errno : 0);
}

/* startRecv(fd, cb(errno, data|null, lengths|null, names|null), budget?) -> 0 | -errno
 * budget: at most this many datagrams per readiness callback (default: until EAGAIN). */
static napi_value js_start_recv(napi_env env, napi_callback_info info) {
  napi_value a[3], name; int32_t fd, budget = 0; napi_valuetype t;
  instance_t *in = inst(env);
  size_t argc = 3;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) { napi_throw_type_error(env, NULL, "too few arguments"); return NULL; }
  if (get_int(env, a[0], &fd)) return NULL;
  if (argc >= 3) {
    napi_valuetype bt;
    napi_typeof(env, a[2], &bt);
    if (bt != napi_undefined && get_int(env, a[2], &budget)) return NULL;
  }
  napi_typeof(env, a[1], &t);
  if (t != napi_function) { napi_throw_type_error(env, NULL, "expected a function"); return NULL; }
  if (find(in, fd)) return num(env, -EBUSY);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return num(env, -ENOMEM);
  int rc = uv_poll_init_socket(loop, &w->poll, fd);
  if (rc != 0) { free(w); return num(env, rc); } /* libuv errors are -errno */
  w->poll.data = w; w->env = env; w->fd = fd; w->budget = budget;
  napi_create_reference(env, a[1], 1, &w->cb);
  napi_create_string_utf8(env, "gleand_native.recv", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->actx);
  w->next = in->head; in->head = w;
  rc = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (rc != 0) { stop_watcher(in, w); return num(env, rc); }
  return num(env, 0);
}

/* stopRecv(fd) -> 0 | -ENOENT */
static napi_value js_stop_recv(napi_env env, napi_callback_info info) {
  napi_value a[1]; int32_t fd;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  watcher_t *w = find(inst(env), fd);
  if (!w) return num(env, -ENOENT);
  stop_watcher(inst(env), w);
  return num(env, 0);
}

/* ref(fd, on): whether the watcher keeps the event loop alive -> 0 | -ENOENT */
static napi_value js_ref(napi_env env, napi_callback_info info) {
  napi_value a[2]; int32_t fd; bool on;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd)) return NULL;
  if (napi_get_value_bool(env, a[1], &on) != napi_ok) { napi_throw_type_error(env, NULL, "expected a boolean"); return NULL; }
  watcher_t *w = find(inst(env), fd);
  if (!w) return num(env, -ENOENT);
  if (on) uv_ref((uv_handle_t *)&w->poll); else uv_unref((uv_handle_t *)&w->poll);
  return num(env, 0);
}

/* close(fd) -> 0 | -errno; stops its watcher first */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value a[1]; int32_t fd;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  watcher_t *w = find(inst(env), fd);
  if (w) stop_watcher(inst(env), w);
  return num(env, close(fd) < 0 ? -errno : 0);
}

static void cleanup(napi_env env, void *data, void *hint) {
  instance_t *in = (instance_t *)data;
  (void)env; (void)hint;
  /* the loop is going away with the environment; handles are not touched */
  free(in->arena);
  free(in);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  instance_t *in = calloc(1, sizeof *in);
  if (!in || !(in->arena = malloc(ARENA_BYTES))) { free(in); return NULL; }
  napi_set_instance_data(env, in, cleanup, NULL);
  napi_property_descriptor props[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setsockopt", NULL, js_setsockopt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getsockopt", NULL, js_getsockopt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getsockname", NULL, js_getsockname, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendto", NULL, js_sendto, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "attachFilter", NULL, js_attach_filter, NULL, NULL, NULL, napi_enumerable, NULL },
    { "startRecv", NULL, js_start_recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "stopRecv", NULL, js_stop_recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ref", NULL, js_ref, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  /* Values that differ between architectures (MIPS: SOL_SOCKET 0xffff, SO_RCVBUF 0x1002,
   * SOCK_DGRAM 1), so TypeScript never hard-codes them. */
  static const struct { const char *name; int value; } k[] = {
    { "AF_INET", AF_INET }, { "AF_INET6", AF_INET6 }, { "AF_NETLINK", AF_NETLINK },
    { "AF_PACKET", AF_PACKET }, { "SOCK_RAW", SOCK_RAW }, { "SOCK_DGRAM", SOCK_DGRAM },
    { "SOL_SOCKET", SOL_SOCKET }, { "SOL_NETLINK", SOL_NETLINK },
    { "SO_RCVBUF", SO_RCVBUF }, { "SO_SNDBUF", SO_SNDBUF },
    { "SO_RCVBUFFORCE", SO_RCVBUFFORCE }, { "SO_SNDBUFFORCE", SO_SNDBUFFORCE },
    { "IPPROTO_IP", IPPROTO_IP }, { "IPPROTO_IPV6", IPPROTO_IPV6 },
    { "IPPROTO_UDP", IPPROTO_UDP }, { "IPPROTO_RAW", IPPROTO_RAW },
    { "SO_REUSEADDR", SO_REUSEADDR }, { "SO_BROADCAST", SO_BROADCAST }, { "SO_MEMINFO", SO_MEMINFO },
    { "IPV6_V6ONLY", IPV6_V6ONLY }, { "IPV6_MULTICAST_IF", IPV6_MULTICAST_IF },
    { "SOL_PACKET", SOL_PACKET }, { "PACKET_STATISTICS", PACKET_STATISTICS },
    { "PACKET_AUXDATA", PACKET_AUXDATA }, { "TP_STATUS_CSUMNOTREADY", TP_STATUS_CSUMNOTREADY },
    { "TP_STATUS_CSUM_VALID", TP_STATUS_CSUM_VALID },
  };
  napi_value consts;
  napi_create_object(env, &consts);
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    napi_set_named_property(env, consts, k[i].name, num(env, k[i].value));
  napi_set_named_property(env, exports, "constants", consts);
  return exports;
}
