// SPDX-License-Identifier: ISC
#pragma once
// The relay secret: [relay] password, password_file or password_command
// (the command's first output line is the password, or the OAuth2 access
// token with auth = xoauth2). Resolved once per queue run, only by
// postern-send, and never logged, put in argv or in a child's environment.
//
// A password file must be a regular file (opened O_NOFOLLOW), owned by us
// or root and not readable by group or others (msmtp's rule: a secret
// anyone else can read is a configuration error, not a warning).

#include "common/config.h"
#include "common/result.h"
#include "common/text.h"

#include <string>
#include <vector>

namespace postern::send {

// The secret for cfg.relay, "" when none is configured.
// Errors: EX_CONFIG naming the file (missing, symlink, not regular, wrong
// owner, mode & 077) or the config key; EX_TEMPFAIL when the command
// failed, timed out or printed nothing.
Result<std::string> resolve_secret(const Config& cfg);

// The first line of path, checked as above. `where` is "postern.conf:7".
Result<std::string> read_secret_file(const std::string& path, const std::string& where);

// Runs cmd without a shell (split on white space), clean environment,
// stdin /dev/null, stderr to the log; returns the first stdout line.
// Errors: EX_TEMPFAIL (exit status, timeout, no output), EX_CONFIG (empty).
Result<std::string> run_secret_command(const std::string& cmd, const std::string& where,
                                       int timeout_seconds);

} // namespace postern::send
