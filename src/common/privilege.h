// SPDX-License-Identifier: ISC
#pragma once
// The front end's set-group-ID drop group, held only around spool calls.
//
// WARNING: postern (as sendmail) may be installed set-group-ID to the drop
// group. It must not run external commands, nor take any information from
// the user that it does not check first. The group is switched off as the
// first thing main() does (effective gid = real gid) and switched on only
// by a DropGroupScope around the few system calls that create and rename
// the drop file: no parsing code ever runs with it in effect.

#include "common/result.h"

#include <sys/types.h>

namespace postern {

// Remembers the effective gid and switches it off. Call once, first.
void drop_group_init();
// The group drop_group_init() found in effect (the drop group when set-id).
gid_t drop_group_gid();
// True when the program runs set-id (real and effective ids differ).
bool running_setid();
// True when the real uid is 0.
bool caller_is_root();

// The queue runner's identity (SPEC, Privileges: "It runs as its own
// user, the only identity that can read the password file"). Started as
// root (root's cron mail, sendmail -q or --check by root), postern-send
// becomes this user for good before it reads anything, so that root and
// the systemd service share one queue and one secret. Where the user does
// not exist (a container, a test machine) it stays root. Errors:
// EX_OSERR when the switch fails halfway (never continue as root then).
const char* queue_user();
Status become_queue_user();

// Effective gid = the drop group while alive.
class DropGroupScope {
  public:
    DropGroupScope();
    ~DropGroupScope();
    DropGroupScope(const DropGroupScope&) = delete;
    DropGroupScope& operator=(const DropGroupScope&) = delete;
};

} // namespace postern
