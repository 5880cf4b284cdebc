// SPDX-License-Identifier: ISC
#pragma once
// Process hygiene shared by the three programs, and the one place that
// turns an Error into an exit status.
//
// sanitize_process() runs first in every main(): fds 0-2 are made valid
// (/dev/null) so nothing we open becomes "stdout" by accident, fds >= 3 are
// closed, umask is 077, core dumps are off, SIGPIPE and SIGXFSZ are ignored,
// and the environment is rebuilt from an allow-list (PATH fixed, TZ only if
// it looks like a zone name). libcurl reads SSLKEYLOGFILE and *_proxy with
// getenv(), which set-id protection does not strip: they are gone after this.

#include "common/result.h"

#include <functional>
#include <string>
#include <vector>

namespace postern {

void sanitize_process(const char* ident);

// Runs body; logs a returned Error once (stderr and syslog) and returns its
// code, 0 on success. Holds the only catch in postern.
int run_main(const std::function<Status()>& body);
// Variant for bodies that compute their own exit status.
int run_main_code(const std::function<Result<int>()>& body);

// Directory of the running executable (/proc/self/exe), without a slash.
std::string self_dir();

// Path of a sibling program (postern-send, postern-deliver): beside our own
// executable when we run from a build tree, else the configured install
// path. Never looked up through PATH.
std::string program_path(const std::string& name);

// Runs argv[0] with argv, stdin from in_fd (or /dev/null if -1), stdout and
// stderr to out_fd (or inherited if -1), environment env. Waits and returns
// the exit status (128+signal for a signal). Errors: EX_OSERR for fork/exec.
Result<int> run_program(const std::vector<std::string>& argv, int in_fd, int out_fd,
                        const std::vector<std::string>& env);

// The clean environment children get: PATH and, when valid, TZ.
std::vector<std::string> clean_environment();

// argv and envp for execve(), built before fork() so that the child makes
// only async-signal-safe calls. The strings must outlive it.
struct ExecArgs {
    std::vector<char*> argv, envp;
    ExecArgs(const std::vector<std::string>& args, const std::vector<std::string>& env);
};

} // namespace postern
