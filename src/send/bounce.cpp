// SPDX-License-Identifier: ISC
#include "send/bounce.h"

#include "common/address.h"
#include "common/spool.h"
#include "send/classify.h"

#include <cstdio>
#include <unistd.h>

namespace postern::send {
namespace {

constexpr size_t whole_message_limit = 64 * 1024;

std::string qualified(const Recipient& r, const std::string& domain)
{
    if (r.kind == RcptKind::Relay || r.kind == RcptKind::Local)
        return qualify(r.address, domain);
    return r.address; // a /file or |command target
}

// "5.1.1" from the reply, else a status that fits the failure.
std::string status_of(const Recipient& r)
{
    std::string s = enhanced_status(r.reply);
    if (!s.empty() && s[0] == '5')
        return s;
    if (r.reply.find("expired") != std::string::npos)
        return "4.4.7";
    if (r.reply.rfind("5.1.1", 0) == 0)
        return "5.1.1";
    return "5.0.0";
}

std::string diagnostic(const Recipient& r)
{
    bool smtp = r.kind == RcptKind::Relay && r.reply.size() > 3 && r.reply[0] >= '2' &&
                r.reply[0] <= '5' && r.reply[3] == ' ';
    return (smtp ? "smtp; " : "x-postern; ") + r.reply;
}

// The header section of a CRLF message (up to the empty line).
std::string header_part(const std::string& msg)
{
    size_t end = msg.find("\r\n\r\n");
    return end == std::string::npos ? msg : msg.substr(0, end + 2);
}

} // namespace

std::string format_bounce(const BounceInfo& in, const Envelope& env, const std::string& original,
                          bool original_complete)
{
    const std::string crlf = "\r\n";
    const std::string& b = in.boundary;
    std::string o;
    o += "From: Mail Delivery System <MAILER-DAEMON@" + in.domain + ">" + crlf;
    o += "To: " + in.to + crlf;
    o += std::string("Subject: ") +
         (in.double_bounce ? "Postmaster notify: undeliverable mail notification"
                           : "Undelivered Mail Returned to Sender") +
         crlf;
    o += "Date: " + rfc5322_date(in.now) + crlf;
    o += "Message-ID: <" + in.id + ".bounce." + std::to_string(in.now) + "@" + in.mta + ">" + crlf;
    o += "Auto-Submitted: auto-replied" + crlf;
    o += "MIME-Version: 1.0" + crlf;
    o += "Content-Type: multipart/report; report-type=delivery-status;" + crlf;
    o += "\tboundary=\"" + b + "\"" + crlf;
    o += "Content-Transfer-Encoding: 7bit" + crlf + crlf;
    o += "This is a MIME-encapsulated message." + crlf + crlf;

    o += "--" + b + crlf;
    o += "Content-Description: Notification" + crlf;
    o += "Content-Type: text/plain; charset=us-ascii" + crlf + crlf;
    o += "This is the mail system at host " + in.mta + "." + crlf + crlf;
    o += "I'm sorry to have to inform you that your message could not" + crlf;
    o += "be delivered to one or more recipients. It's attached below." + crlf + crlf;
    o += "The mail system" + crlf + crlf;
    for (const auto& r : env.rcpts) {
        if (r.state != RcptState::Bounced)
            continue;
        o += "<" + qualified(r, in.domain) + ">";
        if (!r.orig.empty() && r.orig != r.address)
            o += " (expanded from <" + r.orig + ">)";
        o += ": " + r.reply + crlf + crlf;
    }

    o += "--" + b + crlf;
    o += "Content-Description: Delivery report" + crlf;
    o += "Content-Type: message/delivery-status" + crlf + crlf;
    o += "Reporting-MTA: dns; " + in.mta + crlf;
    o += "X-Postern-Queue-ID: " + in.id + crlf;
    if (!env.sender.empty())
        o += "X-Postern-Sender: rfc822; " + env.sender + crlf;
    o += "Arrival-Date: " + rfc5322_date(env.time) + crlf;
    for (const auto& r : env.rcpts) {
        if (r.state != RcptState::Bounced)
            continue;
        o += crlf;
        o += "Final-Recipient: rfc822; " + qualified(r, in.domain) + crlf;
        if (!r.orig.empty() && r.orig != r.address)
            o += "Original-Recipient: rfc822; " + r.orig + crlf;
        o += "Action: failed" + crlf;
        o += "Status: " + status_of(r) + crlf;
        o += "Diagnostic-Code: " + diagnostic(r) + crlf;
    }
    o += crlf;

    o += "--" + b + crlf;
    bool whole = original_complete && original.size() <= whole_message_limit && env.ret != "hdrs";
    if (whole) {
        o += "Content-Description: Undelivered Message" + crlf;
        o += "Content-Type: message/rfc822" + crlf + crlf;
        o += original;
    } else {
        o += "Content-Description: Undelivered Message Headers" + crlf;
        o += "Content-Type: text/rfc822-headers" + crlf + crlf;
        o += header_part(original);
    }
    if (o.size() < 2 || o.substr(o.size() - 2) != crlf)
        o += crlf;
    o += crlf + "--" + b + "--" + crlf;
    return o;
}

Result<std::string> inject_bounce(const Config& cfg, const std::string& report,
                                  const std::string& rcpt)
{
    std::string id = new_queue_id();
    Envelope e;
    e.time = ::time(nullptr);
    e.uid = ::geteuid();
    e.user = "MAILER-DAEMON";
    e.sender = ""; // null sender: a report is never answered by another
    Recipient r;
    r.address = rcpt;
    e.rcpts.push_back(r);
    auto header = format_drop_header(e);
    if (!header)
        return header.error();
    auto f = DropFile::create(cfg.queue.dir, id);
    if (!f)
        return f.error();
    long long at = f->offset();
    Status st = f->write(*header);
    if (st)
        st = f->write(report);
    if (st)
        st = f->commit(at, static_cast<long long>(report.size()));
    if (!st)
        return st.error();
    return id;
}

} // namespace postern::send
