// SPDX-License-Identifier: ISC
#include "common/address.h"

#include "common/text.h"

#include <cstdio>

namespace postern {

std::string to_lower(std::string s)
{
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string printable(std::string_view s)
{
    std::string out;
    bool utf8 = valid_utf8(s); // else bytes >= 0x80 are escaped too
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

namespace {

// Position of the '@' that separates local part and domain: the last one
// outside a quoted string. npos for a bare name.
size_t at_sign(std::string_view a)
{
    bool quoted = false;
    size_t at = std::string_view::npos;
    for (size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (quoted && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (c == '@' && !quoted)
            at = i;
    }
    return at;
}

} // namespace

Status check_address(std::string_view a, std::string_view what)
{
    for (unsigned char c : a) {
        if (c < 0x20 || c == 0x7f)
            return fail(EX_DATAERR, std::string(what) + " '" + printable(a) +
                                        "' contains a control character (refused: it could "
                                        "inject SMTP commands or headers)");
    }
    auto bad = [&](const char* why) {
        return fail(EX_NOUSER, std::string(what) + " '" + printable(a) + "': " + why);
    };
    if (a.empty())
        return bad("empty address");
    if (a.size() > 254)
        return bad("address longer than 254 octets");
    if (a[0] == '-')
        return bad("address starts with '-'");
    if (!valid_utf8(a))
        return fail(EX_DATAERR,
                    std::string(what) + " '" + printable(a) + "' is not valid UTF-8 (refused)");
    bool quoted = false;
    int ats = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (quoted && c == '\\') {
            ++i;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == ' ' || c == '\t' || c == '<' || c == '>' || c == ',' ||
                             c == '(' || c == ')' || c == ';'))
            return bad("character not allowed outside quotes");
        else if (!quoted && c == '@' && ++ats > 1)
            return bad("more than one '@' outside quotes");
    }
    if (quoted)
        return bad("unbalanced quote");
    size_t at = at_sign(a);
    std::string_view local = at == std::string_view::npos ? a : a.substr(0, at);
    if (local.empty())
        return bad("empty local part");
    if (local.size() > 64)
        return bad("local part longer than 64 octets");
    if (at != std::string_view::npos) {
        std::string_view dom = a.substr(at + 1);
        if (dom.empty())
            return bad("empty domain");
        if (dom.find('@') != std::string_view::npos || dom.find('"') != std::string_view::npos)
            return bad("malformed domain");
        if (dom.front() == '.' || dom.back() == '.' || dom.find("..") != std::string_view::npos)
            return bad("malformed domain");
    }
    return {};
}

std::string local_part(const std::string& a)
{
    size_t at = at_sign(a);
    return at == std::string::npos ? a : a.substr(0, at);
}

std::string domain_part(const std::string& a)
{
    size_t at = at_sign(a);
    return at == std::string::npos ? std::string() : a.substr(at + 1);
}

std::string qualify(const std::string& addr, const std::string& domain)
{
    if (addr.empty() || at_sign(addr) != std::string::npos || domain.empty())
        return addr;
    return addr + "@" + domain;
}

bool is_local_domain(const std::string& domain, const Config& cfg)
{
    std::string d = to_lower(domain);
    if (d == "localhost" || d == "localhost.localdomain" || d == local_hostname() ||
        d == local_fqdn())
        return true;
    for (const auto& l : cfg.local.domains)
        if (d == l)
            return true;
    return false;
}

Route route_of(const std::string& addr, const Config& cfg)
{
    std::string d = domain_part(addr);
    if (d.empty() || is_local_domain(d, cfg))
        return Route::Local;
    return Route::Relay;
}

} // namespace postern
