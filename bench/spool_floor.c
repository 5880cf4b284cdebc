/* SPDX-License-Identifier: ISC
 * The spool floor of a queue runner, for bench.py: the file-system work
 * postern-send does for each message it delivers at the first attempt,
 * and nothing else (no parsing, no SMTP, no log): open the drop file,
 * flock it, fstat it, read its header, rename it into the queue, unlink
 * it, close it (the close frees the inode), one directory fsync per 64.
 * Built by the benchmark (cc -O2), not by postern's build.
 *
 *     spool-floor DIR COUNT
 *
 * Creates COUNT 2 KB files in DIR/in (not timed), then times the loop and
 * prints the CPU time (user + system) and the wall time per message, in
 * microseconds: "cpu_us WALL_us". */
#include "floor_clock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: spool-floor DIR COUNT\n");
        return 64;
    }
    int count = atoi(argv[2]);
    char path[4096];
    snprintf(path, sizeof path, "%s/in", argv[1]);
    mkdir(path, 0700);
    int in = open(path, O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof path, "%s/q", argv[1]);
    mkdir(path, 0700);
    int q = open(path, O_RDONLY | O_DIRECTORY);
    if (in < 0 || q < 0 || count <= 0) {
        perror("spool-floor");
        return 1;
    }
    char data[2048];
    memset(data, 'x', sizeof data);
    for (int i = 0; i < count; ++i) {
        char name[32];
        snprintf(name, sizeof name, "m%08d", i);
        int fd = openat(in, name, O_WRONLY | O_CREAT | O_EXCL, 0444);
        if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data) {
            perror("spool-floor: create");
            return 1;
        }
        close(fd);
    }
    sync();
    double c0 = cpu_s(), w0 = wall_s();
    char buf[512];
    for (int i = 0; i < count; ++i) {
        char name[32], qname[40];
        snprintf(name, sizeof name, "m%08d", i);
        snprintf(qname, sizeof qname, "m%08d.msg", i);
        int fd = openat(in, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
            pread(fd, buf, sizeof buf, 0) <= 0 || renameat(in, name, q, qname) < 0 ||
            unlinkat(q, qname, 0) < 0) {
            perror("spool-floor");
            return 1;
        }
        close(fd);
        if (i % 64 == 63)
            fsync(q);
    }
    fsync(q);
    printf("%.2f %.2f\n", (cpu_s() - c0) / count * 1e6, (wall_s() - w0) / count * 1e6);
    return 0;
}
