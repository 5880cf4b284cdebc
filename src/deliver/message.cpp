// SPDX-License-Identifier: ISC
#include "deliver/message.h"

#include "common/io.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace postern::deliver {
namespace {

Result<UniqueFd> temp_file()
{
    UniqueFd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd.valid())
        return fd;
    // Filesystems without O_TMPFILE: the OpenBSD mail.local way.
    char name[] = "/tmp/postern-deliver.XXXXXX";
    fd.reset(::mkostemp(name, O_CLOEXEC));
    if (!fd.valid())
        return fail_errno(EX_TEMPFAIL, "create temporary file in", "/tmp");
    ::unlink(name);
    return fd;
}

} // namespace

Result<Message> Message::from_fd(int in)
{
    Message m;
    struct stat st;
    if (::fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = ::lseek(in, 0, SEEK_CUR);
        if (pos < 0)
            return fail_errno(EX_IOERR, "seek", "standard input");
        m.fd_.reset(::fcntl(in, F_DUPFD_CLOEXEC, 3));
        if (!m.fd_.valid())
            return fail_errno(EX_TEMPFAIL, "dup", "standard input");
        m.start_ = pos;
        m.size_ = st.st_size > pos ? st.st_size - pos : 0;
        m.take_envelope_line();
        return m;
    }
    Result<UniqueFd> tmp = temp_file();
    if (!tmp)
        return tmp.error();
    std::vector<char> buf(1 << 16);
    off_t total = 0;
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(EX_IOERR, "read", "standard input");
        if (n == 0)
            break;
        Status w = write_all(tmp->get(), std::string_view(buf.data(), static_cast<size_t>(n)),
                             "temporary file");
        if (!w)
            return w.error();
        total += n;
    }
    m.fd_ = std::move(*tmp);
    m.size_ = total;
    m.take_envelope_line();
    return m;
}

void Message::take_envelope_line()
{
    char buf[1024];
    ssize_t n = ::pread(fd_.get(), buf, sizeof buf, start_);
    if (n <= 0)
        return;
    std::string_view head(buf, static_cast<size_t>(n));
    if (head.rfind("From ", 0) == 0) {
        size_t eol = head.find('\n');
        if (eol == std::string_view::npos)
            return; // no such envelope line: message text
        std::string_view line = head.substr(5, eol - 5);
        std::string_view who = line.substr(0, line.find(' '));
        if (who == "MAILER-DAEMON" || who == "<>")
            who = {};
        envelope_sender_ = std::string(who);
        from_line_ = true;
        start_ += static_cast<off_t>(eol + 1);
        size_ -= static_cast<off_t>(eol + 1);
        head.remove_prefix(eol + 1);
    }
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    std::string_view rp = "return-path:";
    has_return_path_ = head.size() >= rp.size();
    for (size_t i = 0; has_return_path_ && i < rp.size(); ++i)
        has_return_path_ = lower(head[i]) == rp[i];
}

Status Message::each_chunk(const std::function<Status(std::string_view)>& fn) const
{
    std::vector<char> buf(1 << 16);
    off_t off = 0;
    while (off < size_) {
        size_t want =
            static_cast<size_t>(std::min<off_t>(size_ - off, static_cast<off_t>(buf.size())));
        ssize_t n = ::pread(fd_.get(), buf.data(), want, start_ + off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(EX_IOERR, "read", "message");
        if (n == 0)
            return fail(EX_TEMPFAIL, "message file shrank while it was delivered");
        Status st = fn(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (!st)
            return st;
        off += n;
    }
    return {};
}

} // namespace postern::deliver
