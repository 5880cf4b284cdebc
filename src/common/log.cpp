// SPDX-License-Identifier: ISC
#include "common/log.h"

#include <cstdio>
#include <cstdlib>
#include <syslog.h>
#include <unistd.h>

namespace postern {
namespace {

const char* g_ident = "postern";
bool g_stderr = false;
bool g_debug = false;

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
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_stderr(bool on) { g_stderr = on; }
void log_set_debug(bool on) { g_debug = on; }
bool log_debug_enabled() { return g_debug; }

void log_msg(LogLevel level, const std::string& text)
{
    if (level == LogLevel::Debug && !g_debug)
        return;
    syslog(syslog_priority(level), "%s", text.c_str());
    if (g_stderr || level >= LogLevel::Warning || level == LogLevel::Debug)
        std::fprintf(stderr, "%s: %s\n", g_ident, text.c_str());
}

void panic(const std::string& text)
{
    syslog(LOG_CRIT, "panic: %s", text.c_str());
    std::fprintf(stderr, "%s: panic: %s\n", g_ident, text.c_str());
    std::abort();
}

} // namespace postern
