// SPDX-License-Identifier: ISC
#pragma once
// Logging: syslog facility mail, one line per event in Postfix's style
// ("postern[pid]: ID: to=<...>, relay=..., status=sent (250 ...)").
// Lines also go to stderr when asked (-v, or no /dev/log as in containers),
// so a box without a syslog daemon still shows why mail did not leave.
// Nothing logged here may contain a secret: callers mask AUTH data.

#include <string>

namespace postern {

enum class LogLevel { Debug, Info, Warning, Error };

// ident: program name for syslog. to_stderr: copy lines to stderr.
void log_init(const char* ident, bool to_stderr);
void log_set_stderr(bool on);
// Applies [log]: target syslog (default), stderr, or an append-only file
// (for containers without a syslog daemon); debug adds debug lines.
struct LogConfig;
void log_configure(const LogConfig& cfg);
void log_set_debug(bool on);
bool log_debug_enabled();
// True when a syslog daemon listens on /dev/log. The queue runner copies
// its lines to stderr when not (containers), so a user can still see why
// mail did not leave.
bool syslog_available();

void log_msg(LogLevel level, const std::string& text);
inline void log_debug(const std::string& t) { log_msg(LogLevel::Debug, t); }
inline void log_info(const std::string& t) { log_msg(LogLevel::Info, t); }
inline void log_warning(const std::string& t) { log_msg(LogLevel::Warning, t); }
inline void log_error(const std::string& t) { log_msg(LogLevel::Error, t); }

// A broken invariant: logs at LOG_CRIT and aborts. Never for bad input.
[[noreturn]] void panic(const std::string& text);

} // namespace postern
