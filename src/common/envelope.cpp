// SPDX-License-Identifier: ISC
#include "common/envelope.h"

#include <cstdio>
#include <cstdlib>

namespace postern {
namespace {

bool clean(std::string_view v)
{
    for (char c : v)
        if (c == '\r' || c == '\n' || c == '\0')
            return false;
    return true;
}

struct Writer {
    std::string out;
    bool ok = true;
    void put(const char* key, std::string_view v)
    {
        if (!clean(v))
            ok = false;
        out += key;
        out += ": ";
        out += v;
        out += '\n';
    }
    void put_if(const char* key, std::string_view v)
    {
        if (!v.empty())
            put(key, v);
    }
    void put_num(const char* key, long long n) { put(key, std::to_string(n)); }
    // Free text from outside (a relay's reply, a delivery agent's error):
    // control bytes become spaces. Refusing it instead would leave the
    // state unsaved and resend to recipients already served.
    void put_text(const char* key, std::string_view v)
    {
        std::string s(v);
        for (auto& ch : s)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
                ch = ' ';
        put_if(key, s);
    }
};

void put_common(Writer& w, const Envelope& e)
{
    w.put_num("time", static_cast<long long>(e.time));
    w.put_num("uid", static_cast<long long>(e.uid));
    w.put("user", e.user);
    w.put("sender", e.sender);
    w.put_if("local-sender", e.local_sender);
    w.put_if("notify", e.notify);
    w.put_if("ret", e.ret);
    w.put_if("envid", e.envid);
    w.put_if("body", e.body);
}

bool parse_num(std::string_view v, long long& out)
{
    // At most 18 digits: always fits a long long, and no spool number
    // (a time, a size, a count) comes near it.
    if (v.empty() || v.size() > 18)
        return false;
    long long n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + (c - '0');
    }
    out = n;
    return true;
}

// Splits "key: value"; false when the line has no ": ".
bool split(std::string_view line, std::string_view& key, std::string_view& value)
{
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
        return false;
    key = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
        value.remove_prefix(1);
    return true;
}

// Applies a key shared by both formats; false if the key is not one.
bool apply_common(Envelope& e, std::string_view key, std::string_view v, bool& bad)
{
    long long n = 0;
    if (key == "time") {
        bad = !parse_num(v, n);
        e.time = static_cast<time_t>(n);
    } else if (key == "uid") {
        bad = !parse_num(v, n) || n > 0xffffffffLL;
        e.uid = static_cast<uid_t>(n);
    } else if (key == "size") {
        bad = !parse_num(v, n);
        e.size = n;
    } else if (key == "user") {
        e.user = v;
    } else if (key == "sender") {
        e.sender = v;
    } else if (key == "local-sender") {
        e.local_sender = v;
    } else if (key == "notify") {
        e.notify = v;
    } else if (key == "ret") {
        e.ret = v;
    } else if (key == "envid") {
        e.envid = v;
    } else if (key == "body") {
        e.body = v;
    } else {
        return false;
    }
    return true;
}

Error bad_line(const std::string& what, int lineno, std::string_view why)
{
    return fail(EX_DATAERR, what + ": line " + std::to_string(lineno) + ": " + std::string(why));
}

} // namespace

const char* rcpt_state_name(RcptState s)
{
    switch (s) {
    case RcptState::Pending:
        return "pending";
    case RcptState::Sent:
        return "sent";
    case RcptState::Bounced:
        return "bounced";
    case RcptState::Maybe:
        return "maybe";
    }
    return "pending";
}

const char* rcpt_kind_name(RcptKind k)
{
    switch (k) {
    case RcptKind::Relay:
        return "relay";
    case RcptKind::Local:
        return "local";
    case RcptKind::File:
        return "file";
    case RcptKind::Command:
        return "command";
    }
    return "relay";
}

Result<std::string> format_drop_header(const Envelope& e)
{
    Writer w;
    char size[32];
    std::snprintf(size, sizeof size, "%0*lld", static_cast<int>(drop_size_width), e.size);
    w.out = "POSTERN-DROP 1\n";
    w.put("size", size);
    put_common(w, e);
    for (const auto& r : e.rcpts)
        w.put("rcpt", r.address);
    w.out += '\n';
    if (!w.ok)
        return fail(EX_SOFTWARE, "envelope value with CR, LF or NUL reached the spool writer");
    return w.out;
}

Result<Envelope> parse_drop_header(std::string_view data, const std::string& what)
{
    Envelope e;
    const std::string_view magic = "POSTERN-DROP 1\n";
    if (data.substr(0, magic.size()) != magic)
        return fail(EX_DATAERR, what + ": not a postern drop file");
    size_t pos = magic.size();
    int lineno = 1;
    bool have_size = false;
    for (;;) {
        size_t eol = data.find('\n', pos);
        if (eol == std::string_view::npos)
            return fail(EX_DATAERR, what + ": envelope not terminated");
        std::string_view line = data.substr(pos, eol - pos);
        pos = eol + 1;
        ++lineno;
        if (line.empty())
            break;
        std::string_view key, v;
        if (!split(line, key, v))
            return bad_line(what, lineno, "expected 'key: value'");
        bool bad = false;
        if (key == "rcpt") {
            Recipient r;
            r.address = v;
            e.rcpts.push_back(std::move(r));
        } else if (!apply_common(e, key, v, bad)) {
            return bad_line(what, lineno, "unknown key");
        }
        if (bad)
            return bad_line(what, lineno, "bad number");
        if (key == "size")
            have_size = true;
    }
    if (!have_size)
        return fail(EX_DATAERR, what + ": no size");
    e.offset = static_cast<long long>(pos);
    return e;
}

Result<std::string> format_envelope(const Envelope& e)
{
    Writer w;
    w.out = "POSTERN-ENV 1\n";
    w.put_num("offset", e.offset);
    w.put_num("size", e.size);
    put_common(w, e);
    w.put_num("attempts", e.attempts);
    w.put_num("next", static_cast<long long>(e.next));
    w.put_text("error", e.error);
    for (const auto& r : e.rcpts) {
        std::string v =
            std::string(rcpt_state_name(r.state)) + " " + rcpt_kind_name(r.kind) + " " + r.address;
        w.put("rcpt", v);
        w.put_if("orig", r.orig);
        w.put_text("reply", r.reply);
    }
    w.out += "end\n";
    if (!w.ok)
        return fail(EX_SOFTWARE, "envelope value with CR, LF or NUL reached the spool writer");
    return w.out;
}

Result<Envelope> parse_envelope(std::string_view data, const std::string& what)
{
    Envelope e;
    const std::string_view magic = "POSTERN-ENV 1\n";
    if (data.substr(0, magic.size()) != magic)
        return fail(EX_DATAERR, what + ": not a postern envelope (version 1)");
    size_t pos = magic.size();
    int lineno = 1;
    bool ended = false;
    while (pos < data.size()) {
        size_t eol = data.find('\n', pos);
        if (eol == std::string_view::npos)
            break;
        std::string_view line = data.substr(pos, eol - pos);
        pos = eol + 1;
        ++lineno;
        if (line == "end") {
            ended = true;
            break;
        }
        std::string_view key, v;
        if (!split(line, key, v))
            return bad_line(what, lineno, "expected 'key: value'");
        bool bad = false;
        long long n = 0;
        if (key == "offset") {
            bad = !parse_num(v, n);
            e.offset = n;
        } else if (key == "attempts") {
            bad = !parse_num(v, n) || n > 1000000;
            e.attempts = bad ? 0 : static_cast<int>(n);
        } else if (key == "next") {
            bad = !parse_num(v, n);
            e.next = static_cast<time_t>(n);
        } else if (key == "error") {
            e.error = v;
        } else if (key == "rcpt") {
            size_t s1 = v.find(' ');
            size_t s2 = s1 == std::string_view::npos ? s1 : v.find(' ', s1 + 1);
            if (s2 == std::string_view::npos)
                return bad_line(what, lineno, "expected 'rcpt: state kind address'");
            std::string_view st = v.substr(0, s1), kd = v.substr(s1 + 1, s2 - s1 - 1);
            Recipient r;
            r.address = v.substr(s2 + 1);
            if (st == "pending")
                r.state = RcptState::Pending;
            else if (st == "sent")
                r.state = RcptState::Sent;
            else if (st == "bounced")
                r.state = RcptState::Bounced;
            else if (st == "maybe")
                r.state = RcptState::Maybe;
            else
                return bad_line(what, lineno, "unknown recipient state");
            if (kd == "relay")
                r.kind = RcptKind::Relay;
            else if (kd == "local")
                r.kind = RcptKind::Local;
            else if (kd == "file")
                r.kind = RcptKind::File;
            else if (kd == "command")
                r.kind = RcptKind::Command;
            else
                return bad_line(what, lineno, "unknown recipient kind");
            e.rcpts.push_back(std::move(r));
        } else if (key == "orig" || key == "reply") {
            if (e.rcpts.empty())
                return bad_line(what, lineno, "orig/reply before any rcpt");
            (key == "orig" ? e.rcpts.back().orig : e.rcpts.back().reply) = v;
        } else if (!apply_common(e, key, v, bad)) {
            return bad_line(what, lineno, "unknown key");
        }
        if (bad)
            return bad_line(what, lineno, "bad number");
    }
    if (!ended)
        return fail(EX_DATAERR, what + ": truncated (no 'end' line)");
    return e;
}

} // namespace postern
