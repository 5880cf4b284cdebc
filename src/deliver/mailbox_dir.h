// SPDX-License-Identifier: ISC
#pragma once
// The directory a mailbox lives in (for Maildir: the Maildir itself), and
// the making of it when it does not exist yet (mailbox = maildir:%h/Maildir
// for a user who never had mail, mailbox = %h/mail/inbox).
//
// The directory is reached from a starting point:
// - for a template that starts with %h, the recipient's home, which must
//   exist: it is never created. Below it every component is opened with
//   openat(O_NOFOLLOW|O_DIRECTORY), so no symbolic link under the home is
//   followed, whether the directory behind it exists or not;
// - otherwise the directory as it stands, when it exists (so /var/mail
//   may be a link, as it always could); when it does not, its deepest
//   existing ancestor, and the missing components below it as above.
// A missing component is made with mkdirat(0700) by the calling process,
// which must already be the recipient (never root for another user); the
// parent is fsynced so the new entry survives a power loss. A symbolic
// link, a file, "." or ".." where a component should be is refused.
//
// Errors: EX_TEMPFAIL naming the path and the reason (a missing home,
// a symbolic link or a non-directory in the way, mkdir refused, a missing
// directory when creation is not allowed).

#include "common/result.h"
#include "common/unique_fd.h"

#include <optional>
#include <string>

namespace postern::deliver {

// Opens the directory dir (absolute). home: the trusted starting point
// when the mailbox template starts with %h (dir lies below it).
// may_create: make missing components (else a missing one is an error).
Result<UniqueFd> open_mailbox_dir(const std::string& dir, const std::optional<std::string>& home,
                                  bool may_create);

// Opens (and with may_create makes) the directory name inside dirfd,
// never through a symbolic link; path is dirfd's path + "/" + name, for
// messages. Errors as above.
Result<UniqueFd> open_subdir(int dirfd, const std::string& name, const std::string& path,
                             bool may_create);

} // namespace postern::deliver
