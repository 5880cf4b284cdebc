// SPDX-License-Identifier: ISC
#include "submit/smtp_session.h"

#include "common/address.h"
#include "common/io.h"
#include "common/log.h"

#include <sysexits.h>

namespace postern::submit {
namespace {

constexpr size_t max_command = 2048;
constexpr size_t max_recipients = 1000;

class Session {
  public:
    Session(int in_fd, int out_fd, const MessageJob& base)
        : in_(in_fd), out_(out_fd), base_(base), host_(local_fqdn())
    {
        reset();
    }
    Result<std::vector<std::string>> run();

  private:
    void reset()
    {
        job_ = base_;
        in_mail_ = false;
    }
    Status reply(const std::string& text)
    {
        return write_all(out_, text + "\r\n", "standard output");
    }
    Status mail(const std::string& arg);
    Status rcpt(const std::string& arg);
    Result<bool> data(); // false: input ended

    InputReader in_;
    int out_;
    const MessageJob& base_;
    std::string host_;
    MessageJob job_;
    bool in_mail_ = false;
    std::vector<std::string> queued_;
};

// "<addr> params" after "FROM:" / "TO:". Returns false on bad syntax.
bool split_path(const std::string& arg, std::string& addr, std::string& params)
{
    size_t b = arg.find_first_not_of(' ');
    if (b == std::string::npos || arg[b] != '<')
        return false;
    size_t e = arg.find('>', b);
    if (e == std::string::npos)
        return false;
    addr = arg.substr(b + 1, e - b - 1);
    params = arg.substr(e + 1);
    return true;
}

bool starts_with_ci(const std::string& s, std::string_view p)
{
    return s.size() >= p.size() && to_lower(s.substr(0, p.size())) == p;
}

Status Session::mail(const std::string& arg)
{
    if (in_mail_)
        return reply("503 5.5.1 Error: nested MAIL command");
    std::string addr, params;
    if (!starts_with_ci(arg, "from:") || !split_path(arg.substr(5), addr, params))
        return reply("501 5.5.4 Syntax: MAIL FROM:<address>");
    if (!addr.empty()) {
        Status st = check_address(addr, "sender");
        if (!st)
            return reply("501 5.1.7 " + st.error().text);
        addr = qualify(addr, mail_domain(*base_.cfg));
    }
    std::string lp = to_lower(params);
    if (lp.find("body=8bitmime") != std::string::npos)
        job_.body = "8bitmime";
    else if (lp.find("body=7bit") != std::string::npos)
        job_.body = "7bit";
    job_.sender = addr;
    job_.local_sender.clear(); // an explicit sender, as with -f
    job_.from_addr = addr.empty() ? base_.from_addr : addr;
    job_.rcpts.clear();
    in_mail_ = true;
    return reply("250 2.1.0 Ok");
}

Status Session::rcpt(const std::string& arg)
{
    if (!in_mail_)
        return reply("503 5.5.1 Error: need MAIL command");
    std::string addr, params;
    if (!starts_with_ci(arg, "to:") || !split_path(arg.substr(3), addr, params))
        return reply("501 5.5.4 Syntax: RCPT TO:<address>");
    Status st = check_address(addr, "recipient");
    if (!st)
        return reply("501 5.1.3 " + st.error().text);
    if (job_.rcpts.size() >= max_recipients)
        return reply("452 4.5.3 Error: too many recipients");
    job_.rcpts.push_back(addr);
    return reply("250 2.1.5 Ok");
}

Result<bool> Session::data()
{
    if (!in_mail_ || job_.rcpts.empty()) {
        Status st = reply(in_mail_ ? "503 5.5.1 Error: need RCPT command"
                                   : "503 5.5.1 Error: need MAIL command");
        if (!st)
            return st.error();
        return true;
    }
    Status st = reply("354 End data with <CR><LF>.<CR><LF>");
    if (!st)
        return st.error();
    SmtpDataSource src(in_);
    auto id = submit_message(job_, src);
    reset();
    if (id) {
        queued_.push_back(*id);
        st = reply("250 2.0.0 Ok: queued as " + *id);
        if (!st)
            return st.error();
        return true;
    }
    // The rest of the data must be read, or it would be taken for commands.
    if (!src.done() && !src.drain())
        return false;
    const Error& e = id.error();
    log_warning(e.text);
    std::string code = is_temporary(e)            ? "451 4.3.0 "
                       : e.code == EX_UNAVAILABLE ? "552 5.3.4 "
                                                  : "554 5.6.0 ";
    st = reply(code + e.text.substr(0, e.text.find('\n')));
    if (!st)
        return st.error();
    return true;
}

Result<std::vector<std::string>> Session::run()
{
    Status st = reply("220 " + host_ + " ESMTP postern");
    if (!st)
        return st.error();
    std::string line, piece;
    for (;;) {
        bool eol = false;
        auto r = in_.read_piece(line, max_command, eol);
        if (!r)
            return r.error();
        if (!*r)
            break;
        if (!eol) {
            // Too long: skip the rest of the line, then complain once.
            while (!eol) {
                auto more = in_.read_piece(piece, max_command, eol);
                if (!more)
                    return more.error();
                if (!*more)
                    break;
            }
            st = reply("500 5.5.2 Error: line too long");
            if (!st)
                return st.error();
            continue;
        }
        size_t sp = line.find(' ');
        std::string verb = to_lower(line.substr(0, sp));
        std::string arg = sp == std::string::npos ? std::string() : line.substr(sp + 1);
        if (verb == "ehlo" || verb == "helo") {
            if (arg.empty())
                st = reply("501 5.5.4 Syntax: " + to_lower(verb) + " hostname");
            else if (verb == "helo")
                st = reply("250 " + host_);
            else
                st = reply("250-" + host_ + "\r\n250-PIPELINING\r\n250-SIZE " +
                           std::to_string(base_.cfg->queue.max_size) +
                           "\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES");
        } else if (verb == "mail") {
            st = mail(arg);
        } else if (verb == "rcpt") {
            st = rcpt(arg);
        } else if (verb == "data") {
            auto d = data();
            if (!d)
                return d.error();
            if (!*d)
                break;
        } else if (verb == "rset") {
            reset();
            st = reply("250 2.0.0 Ok");
        } else if (verb == "noop") {
            st = reply("250 2.0.0 Ok");
        } else if (verb == "vrfy") {
            st = reply("252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
        } else if (verb == "help") {
            st = reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
        } else if (verb == "quit") {
            st = reply("221 2.0.0 Bye");
            if (!st)
                return st.error();
            break;
        } else {
            st = reply("500 5.5.2 Error: command not recognized");
        }
        if (!st)
            return st.error();
    }
    return queued_;
}

} // namespace

Result<std::vector<std::string>> run_smtp_session(int in_fd, int out_fd, const MessageJob& base)
{
    Session s(in_fd, out_fd, base);
    return s.run();
}

} // namespace postern::submit
