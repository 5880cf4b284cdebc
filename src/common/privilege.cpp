// SPDX-License-Identifier: ISC
#include "common/privilege.h"

#include "common/log.h"

#include <unistd.h>

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
