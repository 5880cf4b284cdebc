// SPDX-License-Identifier: ISC
#include "deliver/command.h"

#include "common/address.h"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace postern::deliver {
namespace {

[[noreturn]] void exec_child(const std::string& command, int input_fd, int err_fd,
                             const std::vector<std::string>& env)
{
    // A process group of its own, so a timeout kills what it started too.
    ::setsid();
    int null = ::open("/dev/null", O_WRONLY);
    if (::dup2(input_fd, 0) < 0 || null < 0 || ::dup2(null, 1) < 0 || ::dup2(err_fd, 2) < 0)
        ::_exit(EX_OSERR);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
    std::vector<char*> envp;
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    ::execve("/bin/sh", const_cast<char**>(argv), envp.data());
    ::_exit(EX_OSERR);
}

std::string first_line(const std::string& s)
{
    std::string line = s.substr(0, s.find('\n'));
    return printable(line.substr(0, 200));
}

} // namespace

Status run_command(const std::string& command, int input_fd, long timeout,
                   const std::vector<std::string>& env)
{
    if (::lseek(input_fd, 0, SEEK_SET) < 0)
        return fail_errno(EX_OSERR, "seek", "message");
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        return fail_errno(EX_OSERR, "pipe", "");
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(p[0]);
        ::close(p[1]);
        return fail_errno(EX_OSERR, "fork", "");
    }
    if (pid == 0)
        exec_child(command, input_fd, p[1], env);
    ::close(p[1]);

    std::time_t deadline = ::time(nullptr) + timeout;
    std::string err;
    bool eof = false;
    int status = 0;
    bool timed_out = false;
    for (;;) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid && eof)
            break;
        if (::time(nullptr) >= deadline) {
            timed_out = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            if (w != pid)
                ::waitpid(pid, &status, 0);
            break;
        }
        if (eof) {
            // stderr is closed but the command still runs: poll its exit.
            if (w == pid)
                break;
            struct timespec ts = {0, 20 * 1000 * 1000};
            ::nanosleep(&ts, nullptr);
            continue;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        int r = ::poll(&pfd, 1, 200);
        if (r > 0) {
            char buf[4096];
            ssize_t n = ::read(p[0], buf, sizeof buf);
            if (n > 0 && err.size() < 8192)
                err.append(buf, static_cast<size_t>(n));
            else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                eof = true;
        }
        if (w == pid) {
            // Exited: collect what is left in the pipe without waiting on
            // grandchildren that may keep it open.
            eof = true;
            break;
        }
    }
    ::close(p[0]);

    std::string what = "command '" + printable(command) + "'";
    if (timed_out)
        return fail(EX_TEMPFAIL, what + " timed out after " + std::to_string(timeout) + " s");
    if (WIFSIGNALED(status))
        return fail(EX_TEMPFAIL, what + " killed by signal " + std::to_string(WTERMSIG(status)));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
    if (code == 0)
        return {};
    std::string line = first_line(err);
    std::string text = what + " failed with status " + std::to_string(code) +
                       (line.empty() ? std::string() : ": " + line);
    return fail(is_temporary_code(code) ? EX_TEMPFAIL : EX_UNAVAILABLE, text);
}

} // namespace postern::deliver
