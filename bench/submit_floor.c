/* SPDX-License-Identifier: ISC
 * The submission floor of a queueing sendmail, for bench.py: a program
 * exec'd through the same harness as the tools and dynamically linked
 * against libc like every Debian program, that does only what a durable
 * submission cannot skip: read the message from standard input, write it
 * to a new file in DIR, fsync it, rename it to its final name, fsync DIR.
 * No configuration, no parsing, no headers, no delivery start. Built by
 * the benchmark (cc -O2), not by postern's build.
 *
 *     submit-floor DIR < message
 *
 * Exits 0 when the message is on disk; the harness removes the file, as
 * a runner would. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: submit-floor DIR < message\n");
        return 64;
    }
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
    char tmp[32], name[32];
    snprintf(tmp, sizeof tmp, "t%d", (int)getpid());
    snprintf(name, sizeof name, "m%d", (int)getpid());
    int fd = dir < 0 ? -1 : openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        perror("submit-floor");
        return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) {
            fprintf(stderr, "submit-floor: short write\n");
            return 1;
        }
    if (n < 0 || fsync(fd) != 0 || close(fd) != 0 || renameat(dir, tmp, dir, name) != 0 ||
        fsync(dir) != 0) {
        perror("submit-floor");
        return 1;
    }
    return 0;
}
