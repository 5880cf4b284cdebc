// SPDX-License-Identifier: ISC
#include "submit/kick.h"

#include "common/log.h"
#include "common/privilege.h"
#include "common/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postern::submit {

bool may_start_runner() { return caller_is_root() || !running_setid(); }

std::vector<std::string> runner_argv(const std::string& config_path, bool verbose)
{
    std::vector<std::string> argv = {program_path("postern-send")};
    if (!config_path.empty()) {
        argv.push_back("-C");
        argv.push_back(config_path);
    }
    if (verbose)
        argv.push_back("-v");
    return argv;
}

void kick_background(const std::vector<std::string>& argv)
{
    // A plain fork, not waited for: the caller (cron, a daemon) must not
    // wait for the runner, not even for its exec (posix_spawn's vfork
    // would). The child starts a new session with stdio on /dev/null and
    // the clean environment; everything it needs is built before fork(),
    // and it makes only async-signal-safe calls. We exit right after, so
    // init adopts it and reaps it: no zombie stays behind.
    std::vector<std::string> env = clean_environment();
    ExecArgs c(argv, env);
    pid_t pid = ::fork();
    if (pid < 0) {
        log_warning("cannot start " + argv[0] + ": " + std::strerror(errno) +
                    "; the message stays queued");
        return;
    }
    if (pid == 0) {
        ::setsid();
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::dup2(null, 2);
            if (null > 2)
                ::close(null);
        }
        ::execve(c.argv[0], c.argv.data(), c.envp.data());
        ::_exit(EX_OSERR);
    }
}

Result<int> run_foreground(const std::vector<std::string>& argv)
{
    return run_program(argv, -1, -1, clean_environment());
}

Status exec_program(const std::vector<std::string>& argv)
{
    std::vector<std::string> env = clean_environment();
    ExecArgs c(argv, env);
    ::execve(c.argv[0], c.argv.data(), c.envp.data());
    return fail_errno(EX_OSERR, "exec", argv[0]);
}

} // namespace postern::submit
