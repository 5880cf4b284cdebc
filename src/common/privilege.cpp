// SPDX-License-Identifier: ISC
#include "common/privilege.h"

#include "common/log.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#ifndef POSTERN_USER
#define POSTERN_USER "postern"
#endif

namespace postern {
namespace {
gid_t g_drop_gid = 0;
bool g_setid = false;
bool g_initialised = false;
} // namespace

void drop_group_init()
{
    g_initialised = true;
    g_drop_gid = ::getegid();
    g_setid = ::getegid() != ::getgid() || ::geteuid() != ::getuid();
    if (g_drop_gid != ::getgid() && ::setegid(::getgid()) < 0)
        panic("setegid to the real group failed");
}

bool running_setid() { return g_setid; }

gid_t drop_group_gid() { return g_drop_gid; }

const char* queue_user() { return POSTERN_USER; }

Status become_queue_user()
{
    if (::geteuid() != 0)
        return {};
    struct passwd* pw = ::getpwnam(POSTERN_USER);
    if (!pw || pw->pw_uid == 0)
        return {};
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (::initgroups(POSTERN_USER, gid) < 0 || ::setresgid(gid, gid, gid) < 0 ||
        ::setresuid(uid, uid, uid) < 0)
        return fail_errno(EX_OSERR, "switch to user", POSTERN_USER);
    // Paranoia: a root that could come back would defeat the point.
    uid_t r, e, s;
    if (::getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || ::setuid(0) == 0)
        return fail(EX_OSERR, std::string("could not drop root for user ") + POSTERN_USER);
    return {};
}

bool caller_is_root() { return ::getuid() == 0; }

DropGroupScope::DropGroupScope()
{
    if (!g_initialised)
        panic("DropGroupScope before drop_group_init");
    if (g_drop_gid != ::getgid() && ::setegid(g_drop_gid) < 0)
        panic("setegid to the drop group failed");
}

DropGroupScope::~DropGroupScope()
{
    if (g_drop_gid != ::getgid() && ::setegid(::getgid()) < 0)
        panic("setegid back to the real group failed");
}

} // namespace postern
