// SPDX-License-Identifier: ISC
#pragma once
// Recipients as Unix accounts, where their mailbox is, and the one step
// that gives up root for good.
//
// WARNING: postern-deliver is installed set-user-ID root (4750
// root:postern). become() is the point after which no root power is left;
// every caller must reach it before it writes a byte that came from the
// message, and before it runs or opens anything for a /file or |command
// alias target.

#include "common/result.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace postern::deliver {

struct User {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};

// A name that may become part of a path: not empty, at most 32 octets,
// no '/', no leading '.' or '-', no control bytes or white space.
// Errors: EX_NOUSER "invalid user name ...".
Status check_user_name(std::string_view name);

// getpwnam() after check_user_name(). Errors: EX_NOUSER "no such user".
Result<User> find_user(const std::string& name);

struct MailboxPath {
    std::string path;     // absolute; for Maildir without the trailing '/'
    bool maildir = false; // "maildir:PATH" or a template ending in '/'
    // The user's home when the template starts with %h: the trusted
    // starting point for directories that must be made (mailbox_dir.h).
    std::optional<std::string> home;
};

// Expands [local] mailbox for a user: %u the name, %h the home, %% a '%'.
// Errors: EX_CONFIG for a relative result or an unknown %-escape.
Result<MailboxPath> mailbox_path(const std::string& tmpl, const User& u);

// The group new mbox files get: the mail group when it exists, else the
// user's own group (and then mode 0600, not 0660).
struct MailboxGroup {
    gid_t gid = 0;
    bool is_mail_group = false;
};
MailboxGroup mailbox_group(const std::string& mail_group, const User& u);

// Gives up root for good: setgroups({gid}), setresgid(gid), setresuid(uid),
// then checks that root cannot be regained. A no-op when the process is
// not root. Errors: EX_OSERR when a call fails or the check does.
Status become(uid_t uid, gid_t gid);

} // namespace postern::deliver
