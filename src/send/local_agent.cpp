// SPDX-License-Identifier: ISC
#include "send/local_agent.h"

#include "common/process.h"
#include "common/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

namespace postern::send {

LocalResult map_deliver_status(int status, const std::string& last_line)
{
    LocalResult r;
    if (status == 0) {
        r.verdict = Verdict::Sent;
        r.reply = "delivered to mailbox";
    } else if (status == EX_TEMPFAIL || status == EX_OSERR || status == EX_OSFILE ||
               status == EX_CANTCREAT || status == EX_IOERR || status == EX_NOPERM ||
               status == EX_CONFIG || status >= 128) {
        // Our side's trouble (a lock, a full disk, a broken config, a
        // missing command_user) is fixed by an admin, not by the sender:
        // retry, as Postfix's sys_exits table does for these codes.
        r.verdict = Verdict::Deferred;
        r.reply = last_line.empty()
                      ? "local delivery failed temporarily (status " + std::to_string(status) + ")"
                      : last_line;
    } else if (status == EX_NOUSER) {
        r.verdict = Verdict::Bounced;
        r.reply = last_line.empty() ? "5.1.1 no such user" : "5.1.1 no such user: " + last_line;
    } else {
        r.verdict = Verdict::Bounced;
        r.reply = last_line.empty()
                      ? "local delivery failed (status " + std::to_string(status) + ")"
                      : last_line;
    }
    return r;
}

LocalResult deliver_local(const Recipient& rc, const std::string& sender, const std::string& conf,
                          const std::string& msg_path, long long offset)
{
    std::vector<std::string> argv = {program_path("postern-deliver")};
    if (!conf.empty()) {
        argv.push_back("-C");
        argv.push_back(conf);
    }
    argv.push_back("-f");
    argv.push_back(sender.empty() ? "<>" : sender);
    if (rc.kind == RcptKind::File) {
        argv.push_back("--file");
        argv.push_back(rc.address);
    } else if (rc.kind == RcptKind::Command) {
        argv.push_back("--command");
        argv.push_back(rc.address);
    } else {
        argv.push_back("--");
        argv.push_back(rc.address);
    }
    UniqueFd in(::open(msg_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid() || ::lseek(in.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
        return {Verdict::Deferred, "open " + msg_path + ": " + std::strerror(errno)};
    // Its output goes to an anonymous file: we need only the last line.
    UniqueFd out(::memfd_create("postern-deliver-output", MFD_CLOEXEC));
    auto st = run_program(argv, in.get(), out.valid() ? out.get() : -1, clean_environment());
    if (!st)
        return {Verdict::Deferred, st.error().text};
    std::string last;
    if (out.valid()) {
        off_t end = ::lseek(out.get(), 0, SEEK_END);
        off_t from = end > 1024 ? end - 1024 : 0;
        char buf[1024];
        ssize_t n = ::pread(out.get(), buf, sizeof buf, from);
        if (n > 0) {
            std::string text(buf, static_cast<size_t>(n));
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                text.pop_back();
            last = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
            for (auto& c : last)
                if (static_cast<unsigned char>(c) < 0x20)
                    c = ' ';
        }
    }
    return map_deliver_status(*st, last);
}

} // namespace postern::send
