/* SPDX-License-Identifier: ISC
 * LD_PRELOAD shim for tests/robust/test_busy_runner.py: holds postern-send
 * the first time it lets go of the busy-runner lock (flock(fd, LOCK_UN) on
 * a directory named queue), just before the call (POSTERN_PAUSE_AT=before)
 * or just after it (after), until the test says go. The handshake uses two
 * FIFOs in POSTERN_PAUSE_DIR, so nothing waits on time: the shim writes one
 * byte into "paused" (its open blocks until the test opens it to read),
 * then reads "go" until end of file (the test opens it and closes it). The
 * environment is read in the constructor: postern-send clears its own in
 * main(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[4096];
static int after, done;

__attribute__((constructor)) static void shim_init(void)
{
    const char* d = getenv("POSTERN_PAUSE_DIR");
    const char* at = getenv("POSTERN_PAUSE_AT");
    if (!d || strcmp(program_invocation_short_name, "postern-send") != 0)
        return;
    snprintf(dir, sizeof dir, "%s", d);
    after = at && strcmp(at, "after") == 0;
}

static int is_queue_dir(int fd)
{
    struct stat st;
    char link[64], path[4096];
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 6)
        return 0;
    path[n] = '\0';
    return strcmp(path + n - 6, "/queue") == 0;
}

static void pause_here(void)
{
    char path[4200], c = 'p';
    snprintf(path, sizeof path, "%s/paused", dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, &c, 1) < 0)
            (void)0;
        close(fd);
    }
    snprintf(path, sizeof path, "%s/go", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (read(fd, &c, 1) > 0)
            ;
        close(fd);
    }
}

int flock(int fd, int op)
{
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
    int hold = dir[0] && !done && op == LOCK_UN && is_queue_dir(fd);
    if (hold)
        done = 1;
    if (hold && !after)
        pause_here();
    int r = real(fd, op);
    if (hold && after)
        pause_here();
    return r;
}
