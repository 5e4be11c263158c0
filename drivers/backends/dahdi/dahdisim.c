/*
 * dahdisim.c - an LD_PRELOAD interposer that runs an unmodified DAHDI program
 * (dahdi_cfg, dahdi_scan, dahdi_test, trunkline --card dahdi) against trunkline's
 * simulated DAHDI kernel.
 *
 * Copyright (C) the trunkline developers. GPL-2.0-or-later.
 *
 * Why: the simulated kernel was written from the same reading of dahdi/user.h as
 * trunkline's backend; running the real dahdi-tools against it checks both against a
 * third party's use of the same ioctls.
 *
 * What: open()/openat() of a path under /dev/dahdi/ returns a real descriptor (an
 * eventfd, so that poll() on a mixed set and fd numbering behave) and tells the
 * server (trunkline's simserver, over the Unix socket named by
 * TRUNKLINE_DAHDISIM_SOCKET); ioctl, read, write, poll, ppoll, select and close on
 * such a descriptor become requests to the server. An ioctl's argument is forwarded
 * as the bytes _IOC_SIZE of its request number says (and copied back when _IOC_DIR
 * has _IOC_READ); the DAHDI ioctls whose argument is longer than the struct their
 * number names (DAHDI_LOADZONE, DAHDI_ECHOCANCEL_PARAMS: user.h says the items
 * follow the header) carry the items too. stat() of a /dev/dahdi/ node asks the server
 * whether the node exists, and the DAHDI sysfs trees (/sys/bus/dahdi_*) are hidden,
 * so the tools fall back to what the ioctls say, as on DAHDI before 2.5. Paths under
 * /proc/dahdi (what dahdi-tools' Perl modules read: dahdi_genconf, lsdahdi) are
 * routed to the same path under TRUNKLINE_DAHDISIM_ROOT, which the server rewrites
 * from the simulated kernel's state just before (OP_PROC; simprocfs.py).
 * Everything else goes to libc (dlsym RTLD_NEXT). Without TRUNKLINE_DAHDISIM_SOCKET
 * the library passes every call through.
 *
 * dahdi_cfg's machine-wide mutex (the POSIX semaphore "dahdi_cfg") is renamed per
 * simulated kernel, since each simulated kernel is a machine of its own: runs on two
 * kernels do not wait for each other, nor for a real dahdi_cfg.
 *
 * Limits: a DAHDI descriptor does not survive exec (it is close-on-exec); a forked
 * child gets its own connection and shares the parent's simulated descriptors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <dahdi/user.h>

/* The wire format (simserver.py's REQUEST/RESPONSE): little-endian, native sizes. */
enum { OP_OPEN = 1, OP_CLOSE, OP_READ, OP_WRITE, OP_IOCTL, OP_POLL, OP_EXISTS, OP_PROC };
struct req { uint32_t op; int32_t fd; uint64_t arg; uint32_t len; uint32_t pad; };
struct rsp { int32_t result; int32_t err; uint32_t len; uint32_t pad; };
struct pollitem { int32_t fd; int16_t events; int16_t revents; };

#define MAX_FDS 65536
#define SLICE_MS 20 /* a blocking call is asked for in slices, so threads take turns */
#define DAHDI_PREFIX "/dev/dahdi/"
#define PROC_PREFIX "/proc/dahdi"
#define ROOT_ENV "TRUNKLINE_DAHDISIM_ROOT"

static int kfd_of[MAX_FDS];      /* simulated kernel fd + 1, or 0: not ours */
static char nonblock_of[MAX_FDS];
static int conn = -1;
static pid_t conn_pid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define REAL(name, ret, ...) \
    static ret (*real_##name)(__VA_ARGS__); \
    if (!real_##name) real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static int is_dahdi_path(const char *path)
{
    return path && getenv("TRUNKLINE_DAHDISIM_SOCKET")
        && strncmp(path, DAHDI_PREFIX, sizeof(DAHDI_PREFIX) - 1) == 0;
}

static int is_dahdi_sysfs(const char *path)
{
    return path && getenv("TRUNKLINE_DAHDISIM_SOCKET")
        && strncmp(path, "/sys/bus/dahdi_", 15) == 0;
}

/* /proc/dahdi or a path under it (served from the server's directory, ROOT_ENV). */
static int is_dahdi_proc(const char *path)
{
    size_t n = sizeof(PROC_PREFIX) - 1;
    return path && getenv("TRUNKLINE_DAHDISIM_SOCKET") && getenv(ROOT_ENV)
        && strncmp(path, PROC_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int ours(int fd)
{
    return fd >= 0 && fd < MAX_FDS && kfd_of[fd] > 0;
}

static int io_all(int write_side, void *buf, size_t len)
{
    REAL(read, ssize_t, int, void *, size_t);
    REAL(write, ssize_t, int, const void *, size_t);
    char *p = buf;
    while (len) {
        ssize_t n = write_side ? real_write(conn, p, len) : real_read(conn, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Connect (again after a fork: the child must not talk on its parent's socket). */
static int connect_server(void)
{
    REAL(close, int, int);
    const char *path = getenv("TRUNKLINE_DAHDISIM_SOCKET");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (conn >= 0 && conn_pid == getpid())
        return 0;
    if (conn >= 0)
        real_close(conn);
    conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn < 0)
        return -1;
    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    if (connect(conn, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        real_close(conn);
        conn = -1;
        return -1;
    }
    conn_pid = getpid();
    return 0;
}

/*
 * One request and its answer; returns the result (-1 with errno set on failure).
 * `out` receives at most `out_len` bytes of the answer's payload.
 */
static long call(uint32_t op, int kfd, uint64_t arg, const void *in, uint32_t in_len,
                 void *out, uint32_t out_len, uint32_t *got)
{
    struct req q = { op, kfd, arg, in_len, 0 };
    struct rsp r;
    char sink[256];
    int saved = errno;
    pthread_mutex_lock(&lock);
    if (connect_server() < 0 || io_all(1, &q, sizeof(q)) < 0
        || (in_len && io_all(1, (void *)in, in_len) < 0) || io_all(0, &r, sizeof(r)) < 0) {
        pthread_mutex_unlock(&lock);
        fprintf(stderr, "dahdisim: the simulated kernel's server is gone\n");
        errno = EIO;
        return -1;
    }
    uint32_t keep = r.len < out_len ? r.len : out_len;
    if (keep && io_all(0, out, keep) < 0)
        r.result = -1, r.err = EIO;
    for (uint32_t rest = r.len - keep; rest;) {
        uint32_t n = rest < sizeof(sink) ? rest : sizeof(sink);
        if (io_all(0, sink, n) < 0)
            break;
        rest -= n;
    }
    pthread_mutex_unlock(&lock);
    if (got)
        *got = keep;
    if (r.result < 0) {
        errno = r.err;
        return -1;
    }
    errno = saved;
    return r.result;
}

/*
 * A /proc/dahdi path as the file the server keeps for it: the server first rewrites its
 * directory from the kernel's state (OP_PROC). NULL with errno set on failure.
 */
static const char *proc_path(const char *path, char *buf, size_t size)
{
    if (call(OP_PROC, -1, 0, path, (uint32_t)strlen(path) + 1, NULL, 0, NULL) < 0)
        return NULL;
    int n = snprintf(buf, size, "%s%s", getenv(ROOT_ENV), path);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return buf;
}

/* In a function taking `path`: route a /proc/dahdi path, or fail as `fail`. */
#define ROUTE_PROC(path, fail) \
    char routed_[PATH_MAX]; \
    if (is_dahdi_proc(path) && !((path) = proc_path((path), routed_, sizeof(routed_)))) \
        return fail

static int open_dahdi(const char *path, int flags)
{
    REAL(close, int, int);
    long kfd = call(OP_OPEN, -1, (uint64_t)flags, path, (uint32_t)strlen(path) + 1,
                    NULL, 0, NULL);
    if (kfd < 0)
        return -1;
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0 || fd >= MAX_FDS) {
        int err = fd < 0 ? errno : EMFILE;
        if (fd >= 0)
            real_close(fd);
        call(OP_CLOSE, (int)kfd, 0, NULL, 0, NULL, 0, NULL);
        errno = err;
        return -1;
    }
    kfd_of[fd] = (int)kfd + 1;
    nonblock_of[fd] = (flags & O_NONBLOCK) != 0;
    return fd;
}

static int mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(open, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    REAL(open64, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real_open64(path, flags, mode);
}

int __open_2(const char *path, int flags)
{
    REAL(__open_2, int, const char *, int);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real___open_2(path, flags);
}

int __open64_2(const char *path, int flags)
{
    REAL(__open64_2, int, const char *, int);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real___open64_2(path, flags);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat, int, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    REAL(openat64, int, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    if (is_dahdi_path(path))
        return open_dahdi(path, flags);
    ROUTE_PROC(path, -1);
    return real_openat64(dirfd, path, flags, mode);
}

int close(int fd)
{
    REAL(close, int, int);
    if (ours(fd)) {
        int kfd = kfd_of[fd] - 1;
        kfd_of[fd] = 0;
        real_close(fd);
        return (int)call(OP_CLOSE, kfd, 0, NULL, 0, NULL, 0, NULL) < 0 ? -1 : 0;
    }
    return real_close(fd);
}

/* Wait (in slices) until the simulated fd has `events`; 0 when it has, -1 on error. */
static int wait_for(int fd, short events)
{
    struct pollitem item = { kfd_of[fd] - 1, events, 0 };
    for (;;) {
        uint32_t got = 0;
        if (call(OP_POLL, -1, SLICE_MS, &item, sizeof(item), &item, sizeof(item), &got) < 0)
            return -1;
        if (got == sizeof(item) && item.revents)
            return 0;
    }
}

static ssize_t read_dahdi(int fd, void *buf, size_t size)
{
    for (;;) {
        uint32_t got = 0;
        long n = call(OP_READ, kfd_of[fd] - 1, size, NULL, 0, buf,
                      size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, &got);
        if (n >= 0)
            return (ssize_t)got;
        if (errno != EAGAIN || nonblock_of[fd] || wait_for(fd, POLLIN | POLLPRI) < 0)
            return -1;
    }
}

ssize_t read(int fd, void *buf, size_t size)
{
    REAL(read, ssize_t, int, void *, size_t);
    return ours(fd) ? read_dahdi(fd, buf, size) : real_read(fd, buf, size);
}

ssize_t __read_chk(int fd, void *buf, size_t size, size_t buflen)
{
    REAL(__read_chk, ssize_t, int, void *, size_t, size_t);
    return ours(fd) ? read_dahdi(fd, buf, size) : real___read_chk(fd, buf, size, buflen);
}

ssize_t write(int fd, const void *buf, size_t size)
{
    REAL(write, ssize_t, int, const void *, size_t);
    if (!ours(fd))
        return real_write(fd, buf, size);
    for (;;) {
        long n = call(OP_WRITE, kfd_of[fd] - 1, 0, buf, (uint32_t)size, NULL, 0, NULL);
        if (n >= 0)
            return n;
        if (errno != EAGAIN || nonblock_of[fd] || wait_for(fd, POLLOUT) < 0)
            return -1;
    }
}

/* The bytes an ioctl's argument spans: _IOC_SIZE, plus the items that user.h says
 * follow the header for the two DAHDI ioctls that carry a list. */
static size_t ioctl_size(unsigned long request, const void *arg)
{
    size_t size = _IOC_SIZE(request);
    if (request == DAHDI_LOADZONE)
        size += (size_t)((const struct dahdi_tone_def_header *)arg)->count
            * sizeof(struct dahdi_tone_def);
    else if (request == DAHDI_ECHOCANCEL_PARAMS)
        size += (size_t)((const struct dahdi_echocanparams *)arg)->param_count
            * sizeof(struct dahdi_echocanparam);
    return size;
}

int ioctl(int fd, unsigned long request, ...)
{
    REAL(ioctl, int, int, unsigned long, ...);
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!ours(fd))
        return real_ioctl(fd, request, arg);
    if (request == FIONBIO) {  /* not DAHDI's: the descriptor's own flag */
        nonblock_of[fd] = *(int *)arg != 0;
        return 0;
    }
    size_t size = (_IOC_DIR(request) == _IOC_NONE || !arg) ? 0 : ioctl_size(request, arg);
    uint32_t back = (_IOC_DIR(request) & _IOC_READ) ? (uint32_t)size : 0;
    return (int)call(OP_IOCTL, kfd_of[fd] - 1, request, arg, (uint32_t)size, arg, back, NULL);
}

/* poll over a set that may mix simulated and real descriptors. */
static int poll_mixed(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    REAL(poll, int, struct pollfd *, nfds_t, int);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct pollitem *items = calloc(n ? n : 1, sizeof(*items));
    int *saved = calloc(n ? n : 1, sizeof(int));
    if (!items || !saved) {
        free(items);
        free(saved);
        errno = ENOMEM;
        return -1;
    }
    int nours = 0, nreal = 0, ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        saved[i] = fds[i].fd;
        fds[i].revents = 0;
        if (ours(fds[i].fd)) {
            items[nours].fd = kfd_of[fds[i].fd] - 1;
            items[nours++].events = fds[i].events;
            fds[i].fd = -1;  /* the real poll skips it */
        } else if (fds[i].fd >= 0) {
            nreal++;
        }
    }
    for (;;) {
        int slice = SLICE_MS;
        if (timeout_ms >= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long spent = (now.tv_sec - start.tv_sec) * 1000
                + (now.tv_nsec - start.tv_nsec) / 1000000;
            long left = timeout_ms - spent;
            slice = left < 0 ? 0 : (left < slice ? (int)left : slice);
        }
        uint32_t got = 0;
        int real_ready = 0;
        if (nreal)
            real_ready = real_poll(fds, n, nours ? 0 : slice);
        if (real_ready < 0)
            break;
        if (nours && call(OP_POLL, -1, (uint64_t)(real_ready ? 0 : slice), items,
                          (uint32_t)(nours * sizeof(*items)), items,
                          (uint32_t)(nours * sizeof(*items)), &got) < 0) {
            real_ready = -1;
            break;
        }
        int k = 0;
        ready = real_ready;
        for (nfds_t i = 0; i < n; i++) {
            if (ours(saved[i])) {
                fds[i].revents = items[k++].revents;
                ready += fds[i].revents != 0;
            }
        }
        if (ready || slice == 0)
            break;
    }
    for (nfds_t i = 0; i < n; i++)
        fds[i].fd = saved[i];
    free(items);
    free(saved);
    return ready;
}

static int has_ours(struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (ours(fds[i].fd))
            return 1;
    return 0;
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    REAL(poll, int, struct pollfd *, nfds_t, int);
    return has_ours(fds, n) ? poll_mixed(fds, n, timeout_ms) : real_poll(fds, n, timeout_ms);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t len)
{
    REAL(__poll_chk, int, struct pollfd *, nfds_t, int, size_t);
    return has_ours(fds, n) ? poll_mixed(fds, n, timeout_ms)
                            : real___poll_chk(fds, n, timeout_ms, len);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
    REAL(ppoll, int, struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    if (!has_ours(fds, n))
        return real_ppoll(fds, n, ts, mask);
    /* The signal mask is not applied while waiting on simulated descriptors. */
    return poll_mixed(fds, n, ts ? (int)(ts->tv_sec * 1000 + ts->tv_nsec / 1000000) : -1);
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    REAL(select, int, int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int any = 0;
    for (int fd = 0; fd < nfds && !any; fd++)
        any = ours(fd) && ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr))
                           || (ex && FD_ISSET(fd, ex)));
    if (!any)
        return real_select(nfds, rd, wr, ex, tv);
    /* As poll: read is POLLIN, write POLLOUT, except (DAHDI's events) POLLPRI. */
    struct pollfd *fds = calloc((size_t)nfds, sizeof(*fds));
    if (!fds) {
        errno = ENOMEM;
        return -1;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)(((rd && FD_ISSET(fd, rd)) ? POLLIN : 0)
                           | ((wr && FD_ISSET(fd, wr)) ? POLLOUT : 0)
                           | ((ex && FD_ISSET(fd, ex)) ? POLLPRI : 0));
        if (ev)
            fds[n++] = (struct pollfd){ fd, ev, 0 };
    }
    int res = poll_mixed(fds, n, tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1);
    if (res >= 0) {
        res = 0;
        if (rd) FD_ZERO(rd);
        if (wr) FD_ZERO(wr);
        if (ex) FD_ZERO(ex);
        for (nfds_t i = 0; i < n; i++) {
            short r = fds[i].revents;
            if (rd && (r & (POLLIN | POLLHUP | POLLERR))) { FD_SET(fds[i].fd, rd); res++; }
            if (wr && (r & POLLOUT)) { FD_SET(fds[i].fd, wr); res++; }
            if (ex && (r & POLLPRI)) { FD_SET(fds[i].fd, ex); res++; }
        }
    }
    free(fds);
    return res;
}

/* stat() of a /dev/dahdi/ node: a character device if the simulated kernel has the node. */
static int stat_dahdi(const char *path, struct stat *st)
{
    long there = call(OP_EXISTS, -1, 0, path, (uint32_t)strlen(path) + 1, NULL, 0, NULL);
    if (there < 0)
        return -1;
    if (!there) {
        errno = ENOENT;
        return -1;
    }
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFCHR | 0660;
    st->st_rdev = makedev(196, 0);  /* DAHDI's major (dahdi-base.c: DAHDI_MAJOR) */
    st->st_nlink = 1;
    return 0;
}

int stat(const char *path, struct stat *st)
{
    REAL(stat, int, const char *, struct stat *);
    if (is_dahdi_path(path))
        return stat_dahdi(path, st);
    ROUTE_PROC(path, -1);
    return real_stat(path, st);
}

int stat64(const char *path, struct stat64 *st)
{
    REAL(stat64, int, const char *, struct stat64 *);
    if (is_dahdi_path(path))
        return stat_dahdi(path, (struct stat *)st);
    ROUTE_PROC(path, -1);
    return real_stat64(path, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    REAL(fstatat, int, int, const char *, struct stat *, int);
    if (is_dahdi_path(path))
        return stat_dahdi(path, st);
    ROUTE_PROC(path, -1);
    return real_fstatat(dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    REAL(fstatat64, int, int, const char *, struct stat64 *, int);
    if (is_dahdi_path(path))
        return stat_dahdi(path, (struct stat *)st);
    ROUTE_PROC(path, -1);
    return real_fstatat64(dirfd, path, st, flags);
}

int access(const char *path, int mode)
{
    REAL(access, int, const char *, int);
    struct stat st;
    if (is_dahdi_path(path))
        return stat_dahdi(path, &st);
    ROUTE_PROC(path, -1);
    return real_access(path, mode);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *st)
{
    REAL(statx, int, int, const char *, int, unsigned int, struct statx *);
    ROUTE_PROC(path, -1);
    return real_statx(dirfd, path, flags, mask, st);
}

/* lstat: nothing under /dev/dahdi/ is a link; /proc/dahdi is routed. */
int lstat(const char *path, struct stat *st)
{
    REAL(lstat, int, const char *, struct stat *);
    if (is_dahdi_path(path))
        return stat_dahdi(path, st);
    ROUTE_PROC(path, -1);
    return real_lstat(path, st);
}

int lstat64(const char *path, struct stat64 *st)
{
    REAL(lstat64, int, const char *, struct stat64 *);
    if (is_dahdi_path(path))
        return stat_dahdi(path, (struct stat *)st);
    ROUTE_PROC(path, -1);
    return real_lstat64(path, st);
}

FILE *fopen(const char *path, const char *mode)
{
    REAL(fopen, FILE *, const char *, const char *);
    if (is_dahdi_sysfs(path)) {
        errno = ENOENT;
        return NULL;
    }
    ROUTE_PROC(path, NULL);
    return real_fopen(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
    REAL(fopen64, FILE *, const char *, const char *);
    if (is_dahdi_sysfs(path)) {
        errno = ENOENT;
        return NULL;
    }
    ROUTE_PROC(path, NULL);
    return real_fopen64(path, mode);
}

DIR *opendir(const char *path)
{
    REAL(opendir, DIR *, const char *);
    if (is_dahdi_sysfs(path)) {
        errno = ENOENT;
        return NULL;
    }
    ROUTE_PROC(path, NULL);
    return real_opendir(path);
}

/*
 * Time at TRUNKLINE_DAHDISIM_SPEED (dahdi-sim --speed N): the simulated kernel's clock
 * runs N times faster than the wall clock, and so do this program's sleep(), usleep(),
 * nanosleep(), gettimeofday() and time(), so a tool that waits and measures on those
 * (fxotune: sleep(2) around each line reset, gettimeofday() for when to reset again)
 * sees the same time as the kernel it talks to. clock_gettime() is left alone (this
 * library paces its own polls on it).
 */
static double speed(void)
{
    const char *text = getenv("TRUNKLINE_DAHDISIM_SPEED");
    double value = text && getenv("TRUNKLINE_DAHDISIM_SOCKET") ? strtod(text, NULL) : 1.0;
    return value > 0 ? value : 1.0;
}

static int scaled_sleep(double seconds)
{
    REAL(nanosleep, int, const struct timespec *, struct timespec *);
    double wait = seconds / speed();
    struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
    return real_nanosleep(&ts, NULL);
}

unsigned int sleep(unsigned int seconds)
{
    REAL(sleep, unsigned int, unsigned int);
    if (speed() == 1.0)
        return real_sleep(seconds);
    scaled_sleep((double)seconds);
    return 0;
}

int usleep(useconds_t usec)
{
    REAL(usleep, int, useconds_t);
    return speed() == 1.0 ? real_usleep(usec) : scaled_sleep((double)usec / 1e6);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    REAL(nanosleep, int, const struct timespec *, struct timespec *);
    if (speed() == 1.0 || !req)
        return real_nanosleep(req, rem);
    if (rem)
        memset(rem, 0, sizeof(*rem));
    return scaled_sleep((double)req->tv_sec + (double)req->tv_nsec / 1e9);
}

/* The wall clock as this program sees it: from its first look, `speed` times faster. */
static double scaled_now(void)
{
    static double origin = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (origin < 0)
        origin = now;
    return origin + (now - origin) * speed();
}

int gettimeofday(struct timeval *tv, void *tz)
{
    REAL(gettimeofday, int, struct timeval *, void *);
    if (speed() == 1.0)
        return real_gettimeofday(tv, tz);
    double now = scaled_now();
    tv->tv_sec = (time_t)now;
    tv->tv_usec = (suseconds_t)((now - (double)tv->tv_sec) * 1e6);
    return 0;
}

time_t time(time_t *out)
{
    REAL(time, time_t, time_t *);
    if (speed() == 1.0)
        return real_time(out);
    time_t now = (time_t)scaled_now();
    if (out)
        *out = now;
    return now;
}

/* The semaphore's name for this simulated kernel: dahdi_cfg.<the socket path>. */
static const char *sem_name(const char *name, char *buf, size_t size)
{
    const char *sock = getenv("TRUNKLINE_DAHDISIM_SOCKET");
    if (!sock || !name || strcmp(name, "dahdi_cfg") != 0)
        return name;
    snprintf(buf, size, "dahdi_cfg%s", sock);
    for (char *p = buf; *p; p++)
        if (*p == '/')
            *p = '_';
    return buf;
}

sem_t *sem_open(const char *name, int oflag, ...)
{
    REAL(sem_open, sem_t *, const char *, int, ...);
    char buf[240];
    va_list ap;
    va_start(ap, oflag);
    mode_t mode = (oflag & O_CREAT) ? va_arg(ap, mode_t) : 0;
    unsigned int value = (oflag & O_CREAT) ? va_arg(ap, unsigned int) : 0;
    va_end(ap);
    return real_sem_open(sem_name(name, buf, sizeof(buf)), oflag, mode, value);
}

int sem_unlink(const char *name)
{
    REAL(sem_unlink, int, const char *);
    char buf[240];
    return real_sem_unlink(sem_name(name, buf, sizeof(buf)));
}
