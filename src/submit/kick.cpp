// SPDX-License-Identifier: ISC
#include "submit/kick.h"

#include "common/log.h"
#include "common/privilege.h"
#include "common/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postern::submit {
namespace {

struct CArgs {
    std::vector<char*> argv, env;
    std::vector<std::string> env_store;
    CArgs(const std::vector<std::string>& a)
    {
        for (auto& s : a)
            argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        env_store = clean_environment();
        for (auto& s : env_store)
            env.push_back(const_cast<char*>(s.c_str()));
        env.push_back(nullptr);
    }
};

} // namespace

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
    // posix_spawn (a vfork-style clone in glibc) instead of a double fork:
    // this runs once per cron mail and the caller waits for it. The child
    // starts a new session with stdio on /dev/null and the clean
    // environment; we do not wait for it. When we exit right after, init
    // adopts it, so the caller never sees a zombie or waits for delivery.
    CArgs c(argv);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_adddup2(&fa, 1, 2);
    ::posix_spawnattr_init(&attr);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, c.argv[0], &fa, &attr, c.argv.data(), c.env.data());
    ::posix_spawnattr_destroy(&attr);
    ::posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        log_warning("cannot start " + argv[0] + ": " + std::strerror(rc) +
                    "; the message stays queued");
}

Result<int> run_foreground(const std::vector<std::string>& argv)
{
    return run_program(argv, -1, -1, clean_environment());
}

Status exec_program(const std::vector<std::string>& argv)
{
    CArgs c(argv);
    ::execve(c.argv[0], c.argv.data(), c.env.data());
    return fail_errno(EX_OSERR, "exec", argv[0]);
}

} // namespace postern::submit
