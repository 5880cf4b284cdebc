// SPDX-License-Identifier: ISC
#include "submit/message.h"

#include "common/address.h"
#include "common/envelope.h"
#include "common/spool.h"
#include "submit/headers.h"

#include <pwd.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace postern::submit {
namespace {

// Counts what goes into the drop file and enforces [queue] max_size.
class SpoolSink : public Sink {
  public:
    SpoolSink(DropFile& f, const Config& cfg) : f_(f), cfg_(cfg) {}
    Status write(std::string_view data) override
    {
        size_ += static_cast<long long>(data.size());
        if (size_ > cfg_.queue.max_size)
            return fail(EX_UNAVAILABLE, "message exceeds max_size (" +
                                            std::to_string(cfg_.queue.max_size) + " bytes) [" +
                                            cfg_.where("queue.max_size") + "]");
        return f_.write(data);
    }
    long long size() const { return size_; }

  private:
    DropFile& f_;
    const Config& cfg_;
    long long size_ = 0;
};

struct HeaderRead {
    std::vector<Header> headers;
    bool have_body_piece = false; // the line that ended the headers starts the body
    std::string body_piece;
    bool body_eol = false;
    bool body_follows = false; // an empty line ended the headers
};

// Reads the header section (see message.h for where it ends).
Result<HeaderRead> read_headers(MessageSource& src)
{
    HeaderRead hr;
    size_t total = 0;
    bool first = true;
    std::string piece;
    for (;;) {
        std::string line;
        bool eol = false;
        bool any = false;
        for (;;) {
            auto r = src.next(piece, eol);
            if (!r)
                return r.error();
            if (!*r)
                break;
            any = true;
            line += piece;
            if (eol)
                break;
            // A line this long with no field name cannot be a header:
            // stream it as body instead of holding it.
            bool header_like =
                (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !hr.headers.empty()) ||
                is_header_start(line);
            if (!header_like)
                break;
            if (total + line.size() > max_header_section)
                return fail(EX_DATAERR, "message header section exceeds " +
                                            std::to_string(max_header_section) +
                                            " octets (refused)");
        }
        if (!any)
            return hr; // end of input: no body
        if (eol && line.empty()) {
            hr.body_follows = true;
            return hr;
        }
        if (first && eol && line.rfind("From ", 0) == 0) {
            first = false; // an mbox From_ line, not part of the message
            continue;
        }
        first = false;
        bool continuation = (line[0] == ' ' || line[0] == '\t') && !hr.headers.empty();
        if (!continuation && !is_header_start(line)) {
            hr.have_body_piece = true;
            hr.body_piece = std::move(line);
            hr.body_eol = eol;
            return hr;
        }
        total += line.size() + 2;
        if (total > max_header_section)
            return fail(EX_DATAERR, "message header section exceeds " +
                                        std::to_string(max_header_section) + " octets (refused)");
        if (continuation) {
            hr.headers.back().raw += "\r\n" + line;
        } else {
            std::string name = line.substr(0, line.find(':'));
            hr.headers.push_back(Header{name, std::move(line)});
        }
    }
}

Envelope make_envelope(const MessageJob& job, time_t now, const std::vector<std::string>& rcpts)
{
    Envelope e;
    e.time = now;
    e.uid = job.caller.uid;
    e.user = job.caller.user;
    e.sender = job.sender;
    e.local_sender = job.local_sender;
    e.notify = job.notify;
    e.ret = job.ret;
    e.envid = job.envid;
    e.body = job.body;
    for (const auto& r : rcpts) {
        Recipient rc;
        rc.address = r;
        e.rcpts.push_back(rc);
    }
    return e;
}

FixupContext make_context(const MessageJob& job, const std::string& id, time_t now)
{
    FixupContext ctx;
    ctx.cfg = job.cfg;
    ctx.domain = mail_domain(*job.cfg);
    ctx.hostname = local_fqdn();
    ctx.queue_id = id;
    ctx.now = now;
    ctx.uid = job.caller.uid;
    ctx.user = job.caller.user;
    ctx.fullname = job.fullname;
    ctx.from_addr = job.from_addr;
    ctx.extract = job.extract;
    return ctx;
}

// Creates a drop file and writes the drop header into it.
Result<DropFile> start_drop(const MessageJob& job, const std::string& id, const Envelope& env)
{
    auto drop = DropFile::create(job.cfg->queue.dir, id);
    if (!drop)
        return drop.error();
    auto dh = format_drop_header(env);
    if (!dh)
        return dh.error();
    Status st = drop->write(*dh);
    if (!st)
        return st.error();
    return drop;
}

// Second pass: re-reads the canonical body from the first drop file and
// writes it quoted-printable after new headers into a new drop file.
Result<std::string> requeue_qp(const MessageJob& job, DropFile& first, long long body_start,
                               long long body_end, std::vector<Header> original,
                               const std::vector<std::string>& rcpts, time_t now)
{
    Status st = first.flush();
    if (!st)
        return st.error();
    std::string id = new_queue_id();
    std::vector<std::string> unused;
    MessageJob j2 = job;
    j2.extract = false; // recipients are known already
    Status fx = fix_headers(original, make_context(j2, id, now), unused);
    if (!fx)
        return fx.error();
    set_quoted_printable(original);
    Envelope env = make_envelope(job, now, rcpts);
    auto drop = start_drop(job, id, env);
    if (!drop)
        return drop.error();
    long long msg_start = drop->offset();
    SpoolSink sink(*drop, *job.cfg);
    st = sink.write(format_headers(original));
    if (!st)
        return st.error();
    QpEncoder qp(sink);
    std::string buf(1 << 16, '\0');
    for (long long at = body_start; at < body_end;) {
        size_t want = static_cast<size_t>(std::min<long long>(body_end - at, 1 << 16));
        ssize_t n = ::pread(first.fd(), buf.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail_errno(EX_TEMPFAIL, "read back", "incoming/." + first.id());
        st = qp.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (!st)
            return st.error();
        at += n;
    }
    st = qp.finish();
    if (!st)
        return st.error();
    st = drop->commit(0, drop->offset() - msg_start, &job.cfg->queue);
    if (!st)
        return st.error();
    return id;
}

} // namespace

Caller current_caller()
{
    Caller c;
    c.uid = ::getuid();
    errno = 0;
    struct passwd* pw = ::getpwuid(c.uid);
    if (pw && pw->pw_name && check_address(pw->pw_name, "user name")) {
        c.user = pw->pw_name;
        c.known = true;
        std::string g = pw->pw_gecos ? pw->pw_gecos : "";
        g = g.substr(0, g.find(','));
        for (char ch : g)
            if (static_cast<unsigned char>(ch) >= 32 && ch != 127)
                c.gecos += ch;
    } else {
        c.user = "uid" + std::to_string(c.uid);
    }
    return c;
}

Result<std::string> submit_message(const MessageJob& job, MessageSource& src)
{
    time_t now = ::time(nullptr);
    std::string id = new_queue_id();
    auto hr = read_headers(src);
    if (!hr)
        return hr.error();
    std::vector<Header> original = hr->headers;
    std::vector<Header> headers = std::move(hr->headers);
    std::vector<std::string> rcpts = job.rcpts;
    std::vector<std::string> extracted;
    Status st = fix_headers(headers, make_context(job, id, now), extracted);
    if (!st)
        return st.error();
    for (const auto& r : extracted) {
        // Addresses from the message are checked like argv ones, before
        // anything is written.
        st = check_address(r, "recipient");
        if (!st)
            return st.error();
        if (std::find(rcpts.begin(), rcpts.end(), r) == rcpts.end())
            rcpts.push_back(r);
    }
    if (rcpts.empty())
        return fail(EX_USAGE, job.extract ? "no recipients (none on the command line, none in "
                                            "To/Cc/Bcc)"
                                          : "no recipients specified");
    MimeInfo mime = mime_info(headers);
    Envelope env = make_envelope(job, now, rcpts);

    auto drop = start_drop(job, id, env);
    if (!drop)
        return drop.error();
    long long msg_start = drop->offset();
    SpoolSink spool_sink(*drop, *job.cfg);
    st = spool_sink.write(format_headers(headers));
    if (!st)
        return st.error();
    long long body_start = msg_start + spool_sink.size();
    BodyWriter body(spool_sink, !mime.reencodable);
    if (hr->have_body_piece) {
        // The line that ended the header section is the first body line.
        // Without an empty line before it there was no separator: the
        // header section gets one (format_headers() wrote it).
        st = body.put(hr->body_piece, hr->body_eol);
        if (!st)
            return st.error();
    }
    std::string piece;
    bool eol = false;
    for (;;) {
        auto r = src.next(piece, eol);
        if (!r)
            return r.error();
        if (!*r)
            break;
        st = body.put(piece, eol);
        if (!st)
            return st.error();
    }
    st = body.finish();
    if (!st)
        return st.error();
    const BodyStats& bs = body.stats();
    bool need_qp =
        mime.reencodable && (bs.nul || bs.long_line || (bs.eight_bit && !mime.declared_8bit));
    if (need_qp)
        return requeue_qp(job, *drop, body_start, msg_start + spool_sink.size(),
                          std::move(original), rcpts, now);
    st = drop->commit(0, spool_sink.size(), &job.cfg->queue);
    if (!st)
        return st.error();
    return id;
}

} // namespace postern::submit
