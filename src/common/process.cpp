// SPDX-License-Identifier: ISC
#include "common/process.h"

#include "common/log.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <new>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef POSTERN_LIBEXECDIR
#define POSTERN_LIBEXECDIR "/usr/libexec/postern"
#endif
#ifndef POSTERN_SBINDIR
#define POSTERN_SBINDIR "/usr/sbin"
#endif

namespace postern {
namespace {

bool valid_tz(const char* tz)
{
    if (!tz || !*tz || tz[0] == '/' || tz[0] == '.')
        return false;
    for (const char* p = tz; *p; ++p) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '+' || c == '-' || c == ':';
        if (!ok)
            return false;
    }
    return std::string_view(tz).find("..") == std::string_view::npos;
}

std::string g_tz;

} // namespace

void sanitize_process(const char* ident)
{
    // Make 0, 1 and 2 valid before anything is opened (postdrop does the
    // same): otherwise a spool file could become our stdout.
    for (int fd = 0; fd < 3; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0) {
            int n = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (n != fd)
                std::_Exit(EX_OSERR);
        }
    }
    // Close every inherited descriptor above 2.
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
#endif
    {
        long max = ::sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (max > 0 ? max : 1024); ++fd)
            ::close(static_cast<int>(fd));
    }
    ::umask(077);
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);

    const char* tz = std::getenv("TZ");
    g_tz = valid_tz(tz) ? tz : "";
    ::clearenv();
    ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    if (!g_tz.empty())
        ::setenv("TZ", g_tz.c_str(), 1);
    log_init(ident, false);
}

std::vector<std::string> clean_environment()
{
    std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    if (!g_tz.empty())
        env.push_back("TZ=" + g_tz);
    return env;
}

int run_main(const std::function<Status()>& body)
{
    return run_main_code([&]() -> Result<int> {
        Status st = body();
        if (!st)
            return st.error();
        return 0;
    });
}

int run_main_code(const std::function<Result<int>()>& body)
{
    try {
        Result<int> r = body();
        if (r)
            return *r;
        log_error(r.error().text);
        return r.error().code;
    } catch (const std::bad_alloc&) {
        log_error("out of memory");
        return EX_TEMPFAIL;
    } catch (const std::exception& e) {
        log_error(std::string("internal error: ") + e.what());
        return EX_SOFTWARE;
    }
}

std::string self_dir()
{
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return {};
    std::string p(buf, static_cast<size_t>(n));
    auto slash = p.rfind('/');
    return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

std::string program_path(const std::string& name)
{
    std::string dir = self_dir();
    if (!dir.empty()) {
        std::string p = dir + "/" + name;
        // A build tree holds all three programs in one directory, beside a
        // build.ninja; an installed front end lives in sbindir instead.
        struct stat st;
        if (::access((dir + "/build.ninja").c_str(), F_OK) == 0 ||
            ::access((dir + "/../build.ninja").c_str(), F_OK) == 0) {
            if (::stat(p.c_str(), &st) == 0)
                return p;
        }
    }
    if (name == "postern")
        return std::string(POSTERN_SBINDIR) + "/postern";
    return std::string(POSTERN_LIBEXECDIR) + "/" + name;
}

ExecArgs::ExecArgs(const std::vector<std::string>& args, const std::vector<std::string>& env)
{
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
}

Result<int> run_program(const std::vector<std::string>& argv, int in_fd, int out_fd,
                        const std::vector<std::string>& env)
{
    ExecArgs x(argv, env);

    pid_t pid = ::fork();
    if (pid < 0)
        return fail_errno(EX_OSERR, "fork for", argv[0]);
    if (pid == 0) {
        int in = in_fd >= 0 ? in_fd : ::open("/dev/null", O_RDONLY);
        if (in != 0) {
            ::dup2(in, 0);
        }
        if (out_fd >= 0) {
            ::dup2(out_fd, 1);
            ::dup2(out_fd, 2);
        }
        ::execve(x.argv[0], x.argv.data(), x.envp.data());
        ::_exit(EX_OSERR);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return fail_errno(EX_OSERR, "waitpid for", argv[0]);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

} // namespace postern
