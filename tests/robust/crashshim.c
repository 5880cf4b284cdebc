/* SPDX-License-Identifier: ISC
 * LD_PRELOAD shim for tests/robust/test_crash.py: counts the calls of
 * write/pwrite/writev/fsync/fdatasync/rename/renameat/renameat2/linkat/unlink/
 * unlinkat/ftruncate made by the program named in POSTERN_CRASH_PROG and
 * raises SIGKILL just before the POSTERN_CRASH_AT-th one. With
 * POSTERN_CRASH_COUNT=file it appends the number of calls made to file at
 * exit. The environment is read in the constructor: the postern programs
 * clear theirs in main(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long crash_at, calls;
static int active;
static char count_file[4096];
static char once_file[4096];

__attribute__((constructor)) static void shim_init(void)
{
    const char* prog = getenv("POSTERN_CRASH_PROG");
    if (prog && strcmp(prog, program_invocation_short_name) != 0)
        return;
    active = 1;
    const char* k = getenv("POSTERN_CRASH_AT");
    if (k)
        crash_at = atol(k);
    const char* c = getenv("POSTERN_CRASH_COUNT");
    if (c)
        snprintf(count_file, sizeof count_file, "%s", c);
    /* POSTERN_CRASH_ONCE=file: only the first process to reach the k-th
     * call dies (children inherit the counter; a real crash does not
     * repeat in the process that cleans up after it). */
    const char* o = getenv("POSTERN_CRASH_ONCE");
    if (o)
        snprintf(once_file, sizeof once_file, "%s", o);
}

static void step(void)
{
    if (!active)
        return;
    ++calls;
    if (crash_at > 0 && calls == crash_at) {
        if (once_file[0]) {
            int fd = open(once_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0)
                return;
            close(fd);
        }
        raise(SIGKILL);
    }
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

__attribute__((destructor)) static void shim_fini(void)
{
    if (!active || !count_file[0])
        return;
    int fd = open(count_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char b[32];
    int n = snprintf(b, sizeof b, "%ld\n", calls);
    active = 0;
    if (REAL(write)(fd, b, (size_t)n) < 0)
        (void)0;
    close(fd);
}

ssize_t write(int fd, const void* b, size_t n) { step(); return REAL(write)(fd, b, n); }
ssize_t pwrite(int fd, const void* b, size_t n, off_t o) { step(); return REAL(pwrite)(fd, b, n, o); }
ssize_t pwrite64(int fd, const void* b, size_t n, off_t o) { step(); return REAL(pwrite64)(fd, b, n, o); }
ssize_t writev(int fd, const struct iovec* v, int c) { step(); return REAL(writev)(fd, v, c); }
int fsync(int fd) { step(); return REAL(fsync)(fd); }
int fdatasync(int fd) { step(); return REAL(fdatasync)(fd); }
int rename(const char* a, const char* b) { step(); return REAL(rename)(a, b); }
int renameat(int d1, const char* a, int d2, const char* b) { step(); return REAL(renameat)(d1, a, d2, b); }
int renameat2(int d1, const char* a, int d2, const char* b, unsigned f) { step(); return REAL(renameat2)(d1, a, d2, b, f); }
int linkat(int d1, const char* a, int d2, const char* b, int f) { step(); return REAL(linkat)(d1, a, d2, b, f); }
int unlink(const char* p) { step(); return REAL(unlink)(p); }
int unlinkat(int d, const char* p, int f) { step(); return REAL(unlinkat)(d, p, f); }
int ftruncate(int fd, off_t l) { step(); return REAL(ftruncate)(fd, l); }
