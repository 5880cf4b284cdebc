// SPDX-License-Identifier: ISC
#pragma once
// Maildir delivery (cr.yp.to/proto/maildir.html, qmail maildir(5)).
//
// The message is written to tmp/NAME and fsynced, then linked into
// new/NAME (rename when the filesystem has no hard links) and new/ is
// fsynced: at that instant it is delivered. NAME is
// "<seconds>.M<usec>P<pid>R<random>.<host>" with '/' and ':' in the host
// written as \057 and \072. The Maildir and its tmp/, new/ and cur/ are
// created (0700) when missing, as mailbox_dir.h makes directories: from
// the home (or the deepest existing ancestor), never through a symbolic
// link; the Maildir itself and its subdirectories must be real
// directories. Everything after that goes through their fds. No locks are
// needed and no From_ line nor quoting is written.
// Runs as the mailbox owner (the caller drops root first).
// Errors: EX_TEMPFAIL for every file system failure (tmp/ is cleaned up).

#include "common/result.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace postern::deliver {

// A unique file name for a new message, as above.
std::string maildir_name();

// Delivers into the Maildir at dir. write_message is called with a sink
// that appends to tmp/NAME; it returns the sink's first error. home: the
// recipient's home when the mailbox template starts with %h (the trusted
// starting point, see mailbox_dir.h). may_create: make missing
// directories (only when the caller is the recipient). Returns the path
// of the delivered file.
using Sink = std::function<Status(std::string_view)>;
Result<std::string> maildir_deliver(const std::string& dir,
                                    const std::function<Status(const Sink&)>& write_message,
                                    const std::optional<std::string>& home = std::nullopt,
                                    bool may_create = true);

} // namespace postern::deliver
