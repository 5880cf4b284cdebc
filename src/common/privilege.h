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

// Effective gid = the drop group while alive.
class DropGroupScope {
  public:
    DropGroupScope();
    ~DropGroupScope();
    DropGroupScope(const DropGroupScope&) = delete;
    DropGroupScope& operator=(const DropGroupScope&) = delete;
};

} // namespace postern
