// SPDX-License-Identifier: ISC
#include "submit/headers.h"

#include "common/address.h"
#include "submit/address_list.h"
#include "submit/encoded_word.h"
#include "submit/header_bytes.h"

#include <sysexits.h>

#include <algorithm>

namespace postern::submit {
namespace {

bool name_is(const Header& h, std::string_view n)
{
    return h.name.size() == n.size() && to_lower(h.name) == to_lower(std::string(n));
}

size_t count_named(const std::vector<Header>& hs, std::string_view n)
{
    return static_cast<size_t>(
        std::count_if(hs.begin(), hs.end(), [&](const Header& h) { return name_is(h, n); }));
}

Header make_header(const std::string& name, const std::string& value)
{
    return Header{name, name + ": " + value};
}

bool is_atext_phrase(std::string_view s)
{
    for (unsigned char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view(" !#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
                      std::string_view::npos;
        if (!ok)
            return false;
    }
    return !s.empty() && s.front() != ' ' && s.back() != ' ';
}

// Rewrites one address-list field: From gets [sender] rewrite_from, and
// every bare name is qualified. Mailboxes are edited from the last to
// the first so earlier offsets stay valid.
void rewrite_field(Header& h, const FixupContext& ctx, bool is_from)
{
    std::string value(h.value());
    auto list = parse_address_list(value);
    if (!list)
        return; // not ours to repair: kept byte for byte
    const Config& cfg = *ctx.cfg;
    bool rewrite = false;
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
        const Mailbox& m = *it;
        bool local = route_of(m.addr, cfg) == Route::Local;
        bool do_rewrite = is_from && !cfg.sender.from.empty() &&
                          (cfg.sender.rewrite_from == RewriteFrom::Always ||
                           (cfg.sender.rewrite_from == RewriteFrom::Local && local));
        if (do_rewrite) {
            // "root (Cron Daemon)" becomes "Cron Daemon <alerts@x>": the
            // comment was the display name, and most readers show only a
            // phrase as the name.
            if (!m.angle && !m.comment.empty())
                value.replace(m.unit_begin, m.unit_end - m.unit_begin,
                              make_phrase(m.comment) + " <" + cfg.sender.from + ">");
            else
                value.replace(m.begin, m.end - m.begin, cfg.sender.from);
            rewrite = true;
        } else if (domain_part(m.addr).empty()) {
            value.insert(m.end, "@" + ctx.domain);
            rewrite = true;
        }
    }
    if (rewrite)
        h.raw = h.name + ":" + value;
}

void collect(const Header& h, std::vector<std::string>& rcpts, Status& st)
{
    auto list = parse_address_list(h.value());
    if (!list) {
        st = fail(EX_DATAERR, h.name + ": header: " + list.error().text);
        return;
    }
    for (const auto& m : *list)
        if (std::find(rcpts.begin(), rcpts.end(), m.addr) == rcpts.end())
            rcpts.push_back(m.addr);
}

std::string lower_value(const Header& h)
{
    std::string v = to_lower(std::string(h.value()));
    size_t b = v.find_first_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : v.substr(b);
}

// One physical line, folded so no piece exceeds 998 octets: at white
// space when there is some, else by force with an inserted space (which
// counts against the next piece: fuzzing found 999-octet pieces).
void fold_line(std::string& out, std::string_view line)
{
    size_t lead = 0; // 1 after a forced cut: the piece starts with our space
    while (line.size() + lead > 998) {
        size_t room = 998 - lead;
        size_t cut = line.find_last_of(" \t", room);
        if (cut == std::string_view::npos || cut == 0) {
            out.append(line.substr(0, room));
            out += "\r\n ";
            line.remove_prefix(room);
            lead = 1;
        } else {
            out.append(line.substr(0, cut));
            out += "\r\n";
            line.remove_prefix(cut); // the white space starts the next line
            lead = 0;
        }
    }
    out.append(line);
    out += "\r\n";
}

} // namespace

bool is_header_start(std::string_view line)
{
    // A field name cannot be folded: a "name" that leaves no room on a
    // 998-octet line (RFC 5322 2.1.1) is not one, and starts the body.
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > max_field_name)
        return false;
    for (size_t i = 0; i < colon; ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if (c <= 32 || c >= 127)
            return false;
    }
    return true;
}

std::string make_phrase(std::string_view name)
{
    if (is_atext_phrase(name))
        return std::string(name);
    bool plain = std::none_of(name.begin(), name.end(),
                              [](char c) { return needs_encoding(static_cast<unsigned char>(c)); });
    if (!plain)
        return encoded_words(name);
    std::string q = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\')
            q += '\\';
        q += c;
    }
    return q + "\"";
}

Status fix_headers(std::vector<Header>& hs, const FixupContext& ctx,
                   std::vector<std::string>& rcpts)
{
    size_t froms = count_named(hs, "From");
    if (froms > 1)
        return fail(EX_DATAERR, "message has " + std::to_string(froms) +
                                    " From: header fields (refused: exactly one is allowed)");
    if (ctx.extract) {
        Status st;
        for (const auto& h : hs)
            if (name_is(h, "To") || name_is(h, "Cc") || name_is(h, "Bcc"))
                collect(h, rcpts, st);
        if (!st)
            return st;
    }
    // Bcc goes always, -t or not, as every peer but ssmtp does.
    std::erase_if(hs, [](const Header& h) { return name_is(h, "Bcc"); });
    // From here on every field is 7-bit; a From that had to be renamed
    // is replaced like a missing one.
    encode_header_bytes(hs);

    if (count_named(hs, "From") == 0) {
        std::string from = ctx.fullname.empty()
                               ? "<" + ctx.from_addr + ">"
                               : make_phrase(ctx.fullname) + " <" + ctx.from_addr + ">";
        hs.push_back(make_header("From", from));
    }
    for (auto& h : hs) {
        bool from = name_is(h, "From");
        if (from || name_is(h, "To") || name_is(h, "Cc"))
            rewrite_field(h, ctx, from);
    }
    std::string date = rfc5322_date(ctx.now);
    if (count_named(hs, "Date") == 0)
        hs.push_back(make_header("Date", date));
    if (count_named(hs, "Message-ID") == 0)
        hs.push_back(make_header("Message-ID", "<" + ctx.queue_id + "@" + ctx.domain + ">"));

    // The real uid goes into the message itself (postdrop, qmail "by uid"):
    // whatever -f claims, the recipient can see who submitted it.
    std::string user;
    for (char c : ctx.user)
        if (c > 32 && c < 127 && c != '(' && c != ')' && c != '\\')
            user += c;
    hs.insert(hs.begin(),
              make_header("Received", "from uid " + std::to_string(ctx.uid) + " (" + user +
                                          ")\r\n\tby " + ctx.hostname + " (postern) id " +
                                          ctx.queue_id + ";\r\n\t" + date));
    return {};
}

MimeInfo mime_info(const std::vector<Header>& hs)
{
    MimeInfo mi;
    bool mime = count_named(hs, "MIME-Version") > 0;
    std::string cte;
    for (const auto& h : hs) {
        if (name_is(h, "Content-Type")) {
            std::string v = lower_value(h);
            if (v.rfind("multipart/", 0) == 0 || v.rfind("message/", 0) == 0)
                mi.reencodable = false;
        } else if (name_is(h, "Content-Transfer-Encoding")) {
            cte = lower_value(h);
            while (!cte.empty() && (cte.back() == ' ' || cte.back() == '\t'))
                cte.pop_back();
        }
    }
    if (!cte.empty() && cte != "7bit" && cte != "8bit")
        mi.reencodable = false; // base64, quoted-printable, binary: not ours to touch
    mi.declared_8bit = mime && cte == "8bit";
    return mi;
}

void set_quoted_printable(std::vector<Header>& hs)
{
    std::erase_if(hs, [](const Header& h) { return name_is(h, "Content-Transfer-Encoding"); });
    if (count_named(hs, "MIME-Version") == 0)
        hs.push_back(make_header("MIME-Version", "1.0"));
    if (count_named(hs, "Content-Type") == 0)
        hs.push_back(make_header("Content-Type", "text/plain; charset=utf-8"));
    hs.push_back(make_header("Content-Transfer-Encoding", "quoted-printable"));
}

std::string format_headers(const std::vector<Header>& hs)
{
    std::string out;
    for (const auto& h : hs) {
        std::string_view raw = h.raw;
        size_t pos = 0;
        for (;;) {
            size_t eol = raw.find("\r\n", pos);
            fold_line(out, raw.substr(pos, eol == std::string_view::npos ? std::string_view::npos
                                                                         : eol - pos));
            if (eol == std::string_view::npos)
                break;
            pos = eol + 2;
        }
    }
    out += "\r\n";
    return out;
}

} // namespace postern::submit
