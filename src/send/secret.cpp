// SPDX-License-Identifier: ISC
#include "send/secret.h"

#include "common/io.h"
#include "common/log.h"
#include "common/process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace postern::send {
namespace {

std::string first_line(const std::string& s)
{
    std::string line = s.substr(0, s.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

long monotonic_ms()
{
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

} // namespace

Result<std::string> read_secret_file(const std::string& path, const std::string& where)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid())
        return fail(EX_CONFIG, where + ": password_file " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0)
        return fail_errno(EX_CONFIG, "stat", path);
    if (!S_ISREG(st.st_mode))
        return fail(EX_CONFIG, where + ": password_file " + path + " is not a regular file");
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
        return fail(EX_CONFIG, where + ": password_file " + path + " is owned by uid " +
                                   std::to_string(st.st_uid) +
                                   ", not by this user or root: refusing to use it");
    // A secret readable by others may already be theirs: refuse rather
    // than warn, so the mistake is fixed (chmod 600) before mail depends on it.
    if (st.st_mode & 077) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return fail(EX_CONFIG, where + ": password_file " + path + " has mode " + mode +
                                   ": it must not be readable by group or others (chmod 600 " +
                                   path + ")");
    }
    std::string data;
    char buf[4096];
    while (data.size() < 65536) {
        auto n = read_some(fd.get(), buf, sizeof buf, path);
        if (!n)
            return fail(EX_CONFIG, n.error().text);
        if (*n == 0)
            break;
        data.append(buf, *n);
    }
    std::string line = first_line(data);
    if (line.empty())
        return fail(EX_CONFIG, where + ": password_file " + path + " is empty");
    return line;
}

Result<std::string> run_secret_command(const std::string& cmd, const std::string& where,
                                       int timeout_seconds)
{
    std::vector<std::string> argv = split_words(cmd);
    if (argv.empty())
        return fail(EX_CONFIG, where + ": password_command is empty");
    if (argv[0].find('/') == std::string::npos)
        return fail(EX_CONFIG, where + ": password_command must name the program by its full "
                                       "path (postern never searches PATH)");
    int out[2];
    if (::pipe2(out, O_CLOEXEC) < 0)
        return fail_errno(EX_OSERR, "pipe for", argv[0]);
    UniqueFd rd(out[0]), wr(out[1]);
    // stderr goes to an anonymous file so that it can be logged after the
    // command ends without a second pipe to drain.
    UniqueFd err(::memfd_create("postern-secret-stderr", MFD_CLOEXEC));

    std::vector<std::string> env = clean_environment();
    ExecArgs x(argv, env);

    pid_t pid = ::fork();
    if (pid < 0)
        return fail_errno(EX_OSERR, "fork for", argv[0]);
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(wr.get(), 1);
        ::dup2(err.valid() ? err.get() : devnull, 2);
        ::execve(x.argv[0], x.argv.data(), x.envp.data());
        ::_exit(127);
    }
    wr.reset();

    std::string output;
    bool timed_out = false;
    long deadline = monotonic_ms() + timeout_seconds * 1000L;
    for (;;) {
        long left = deadline - monotonic_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {rd.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output.size() < 65536)
            output.append(buf, static_cast<size_t>(n));
    }
    if (timed_out)
        ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (err.valid()) {
        std::string text;
        char buf[2048];
        ssize_t n = ::pread(err.get(), buf, sizeof buf, 0);
        if (n > 0)
            text.assign(buf, static_cast<size_t>(n));
        size_t pos = 0;
        while (pos < text.size()) {
            size_t eol = text.find('\n', pos);
            std::string l = text.substr(pos, eol == std::string::npos ? eol : eol - pos);
            if (!l.empty())
                log_warning("password_command " + argv[0] + ": " + l);
            if (eol == std::string::npos)
                break;
            pos = eol + 1;
        }
    }
    if (timed_out)
        return fail(EX_TEMPFAIL, where + ": password_command " + argv[0] + " timed out after " +
                                     std::to_string(timeout_seconds) + "s");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail(EX_TEMPFAIL,
                    where + ": password_command " + argv[0] + " failed (" +
                        (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                           : "signal " + std::to_string(WTERMSIG(status))) +
                        ")");
    std::string line = first_line(output);
    if (line.empty())
        return fail(EX_TEMPFAIL, where + ": password_command " + argv[0] + " printed nothing");
    return line;
}

Result<std::string> resolve_secret(const Config& cfg)
{
    const RelayConfig& r = cfg.relay;
    if (!r.password.empty())
        return r.password;
    if (!r.password_file.empty())
        return read_secret_file(r.password_file, cfg.where("relay.password_file"));
    if (!r.password_command.empty())
        // A token helper is part of talking to the relay: it gets the same
        // time limit as a relay reply ([relay] timeout).
        return run_secret_command(r.password_command, cfg.where("relay.password_command"),
                                  static_cast<int>(r.timeout));
    return std::string();
}

} // namespace postern::send
