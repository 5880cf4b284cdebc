// SPDX-License-Identifier: ISC
// WARNING: this file holds the root-dropping step of a set-user-ID root
// program (see user.h). Keep it small and obvious.
#include "deliver/user.h"

#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace postern::deliver {

Status check_user_name(std::string_view name)
{
    auto bad = [&](const char* why) {
        std::string shown;
        for (unsigned char c : name.substr(0, 40))
            shown += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
        return fail(EX_NOUSER, "invalid user name '" + shown + "': " + why);
    };
    if (name.empty())
        return bad("empty");
    if (name.size() > 32)
        return bad("longer than 32 characters");
    if (name[0] == '.' || name[0] == '-')
        return bad("starts with '.' or '-'");
    for (unsigned char c : name) {
        if (c == '/')
            return bad("contains '/'");
        if (c <= 0x20 || c == 0x7f)
            return bad("contains a control character or white space");
    }
    return {};
}

Result<User> find_user(const std::string& name)
{
    Status ok = check_user_name(name);
    if (!ok)
        return ok.error();
    errno = 0;
    struct passwd* pw = ::getpwnam(name.c_str());
    if (!pw) {
        if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
            return fail_errno(EX_TEMPFAIL, "look up user", name);
        return fail(EX_NOUSER, name + ": no such user");
    }
    return User{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : ""};
}

Result<MailboxPath> mailbox_path(const std::string& tmpl, const User& u)
{
    MailboxPath mp;
    std::string t = tmpl;
    if (t.rfind("maildir:", 0) == 0) {
        mp.maildir = true;
        t = t.substr(8);
    }
    if (t.rfind("%h", 0) == 0)
        mp.home = u.home;
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '%') {
            out += t[i];
            continue;
        }
        char e = i + 1 < t.size() ? t[++i] : '\0';
        if (e == 'u')
            out += u.name;
        else if (e == 'h')
            out += u.home;
        else if (e == '%')
            out += '%';
        else
            return fail(EX_CONFIG, "mailbox " + tmpl + ": unknown escape %" + std::string(1, e));
    }
    if (out.size() > 1 && out.back() == '/') {
        mp.maildir = true;
        while (out.size() > 1 && out.back() == '/')
            out.pop_back();
    }
    if (out.empty() || out[0] != '/')
        return fail(EX_CONFIG, "mailbox " + tmpl + ": not an absolute path for " + u.name);
    mp.path = out;
    return mp;
}

MailboxGroup mailbox_group(const std::string& mail_group, const User& u)
{
    if (!mail_group.empty())
        if (struct group* gr = ::getgrnam(mail_group.c_str()))
            return {gr->gr_gid, true};
    return {u.gid, false};
}

Status become(uid_t uid, gid_t gid)
{
    if (::geteuid() != 0 && ::getuid() != 0)
        return {};
    // Group first: after setresuid() we could no longer change it.
    if (::setgroups(1, &gid) < 0)
        return fail_errno(EX_OSERR, "setgroups", "");
    if (::setresgid(gid, gid, gid) < 0)
        return fail_errno(EX_OSERR, "setresgid", "");
    if (::setresuid(uid, uid, uid) < 0)
        return fail_errno(EX_OSERR, "setresuid", "");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (::getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid ||
        ::getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
        return fail(EX_OSERR, "privileges were not dropped");
    if (uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        return fail(EX_OSERR, "root could be regained after dropping privileges");
    return {};
}

} // namespace postern::deliver
