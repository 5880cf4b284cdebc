// SPDX-License-Identifier: ISC
#pragma once
// Runs a test body in a child process that may not create files in a
// directory: a 0755 root:root spool seen by its user (as root the child
// becomes nobody), or, for an unprivileged run, the caller's own
// directory made 0555 for the time of the run. The body's return value is
// the child's exit status (doctest cannot report from a child).

#include <functional>
#include <string>

#include <grp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace postern::test {

// The uid the child runs as: files it must own are given to it.
inline uid_t child_uid() { return ::geteuid() == 0 ? 65534 : ::geteuid(); }

inline int without_write_access(const std::string& dir, const std::function<int()>& body)
{
    bool root = ::geteuid() == 0;
    if (::chmod(dir.c_str(), root ? 0755 : 0555) < 0)
        return -1;
    pid_t pid = ::fork();
    if (pid == 0) {
        if (root) {
            gid_t g = 65534;
            if (::setgroups(1, &g) < 0 || ::setresgid(g, g, g) < 0 ||
                ::setresuid(65534, 65534, 65534) < 0)
                ::_exit(100);
        }
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::chmod(dir.c_str(), 0700);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace postern::test
