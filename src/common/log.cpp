// SPDX-License-Identifier: ISC
#include "common/log.h"

#include "common/config.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

namespace postern {
namespace {

const char* g_ident = "postern";
bool g_stderr = false;
bool g_debug = false;
bool g_syslog = true;
int g_file = -1;

int syslog_priority(LogLevel l)
{
    switch (l) {
    case LogLevel::Debug:
        return LOG_DEBUG;
    case LogLevel::Info:
        return LOG_INFO;
    case LogLevel::Warning:
        return LOG_WARNING;
    case LogLevel::Error:
        return LOG_ERR;
    }
    return LOG_ERR;
}

} // namespace

void log_init(const char* ident, bool to_stderr)
{
    g_ident = ident;
    g_stderr = to_stderr;
    // Without a syslog daemon glibc tries to connect to /dev/log again on
    // every line (a socket and a failed connect each time); don't.
    g_syslog = ::access("/dev/log", W_OK) == 0;
    if (g_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_stderr(bool on) { g_stderr = on; }

void log_configure(const LogConfig& cfg)
{
    g_debug = g_debug || cfg.debug;
    if (cfg.target == LogTarget::Stderr) {
        g_syslog = false;
        g_stderr = true;
    } else if (cfg.target == LogTarget::File) {
        int fd =
            ::open(cfg.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd >= 0) {
            g_file = fd;
            g_syslog = false;
        } else {
            std::fprintf(stderr, "%s: cannot open log file %s; using syslog\n", g_ident,
                         cfg.file.c_str());
        }
    }
}
void log_set_debug(bool on) { g_debug = on; }
bool log_debug_enabled() { return g_debug; }

bool syslog_available() { return ::access("/dev/log", W_OK) == 0; }

void log_msg(LogLevel level, const std::string& text)
{
    if (level == LogLevel::Debug && !g_debug)
        return;
    if (g_syslog)
        syslog(syslog_priority(level), "%s", text.c_str());
    if (g_file >= 0) {
        char stamp[32];
        time_t now = ::time(nullptr);
        struct tm tm;
        ::localtime_r(&now, &tm);
        ::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
        std::string line = std::string(stamp) + " " + g_ident + "[" + std::to_string(::getpid()) +
                           "]: " + text + "\n";
        ssize_t n = ::write(g_file, line.data(), line.size());
        (void)n;
    }
    if (g_stderr || level >= LogLevel::Warning || level == LogLevel::Debug)
        std::fprintf(stderr, "%s: %s\n", g_ident, text.c_str());
}

void panic(const std::string& text)
{
    if (g_syslog)
        syslog(LOG_CRIT, "panic: %s", text.c_str());
    std::fprintf(stderr, "%s: panic: %s\n", g_ident, text.c_str());
    std::abort();
}

} // namespace postern
