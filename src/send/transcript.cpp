// SPDX-License-Identifier: ISC
#include "send/transcript.h"

namespace postern::send {
namespace {

bool starts_with_ci(std::string_view s, std::string_view p)
{
    if (s.size() < p.size())
        return false;
    for (size_t i = 0; i < p.size(); ++i) {
        char a = s[i], b = p[i];
        if (a >= 'a' && a <= 'z')
            a = static_cast<char>(a - 'a' + 'A');
        if (a != b)
            return false;
    }
    return true;
}

} // namespace

std::string_view chomp(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    return line;
}

std::string Redactor::client(std::string_view raw)
{
    std::string_view line = chomp(raw);
    if (starts_with_ci(line, "AUTH ")) {
        // Keep the mechanism name, which helps when debugging a relay; the
        // initial response after it is the secret (PLAIN, XOAUTH2).
        in_sasl_ = true;
        std::string_view rest = line.substr(5);
        std::string_view mech = rest.substr(0, rest.find(' '));
        std::string out = "AUTH " + std::string(mech);
        if (mech.size() < rest.size())
            out += " <redacted>";
        return out;
    }
    if (in_sasl_)
        return "<redacted>";
    return std::string(line);
}

std::string Redactor::server(std::string_view raw)
{
    std::string_view line = chomp(raw);
    if (in_sasl_) {
        if (line.size() >= 3 && line.substr(0, 3) == "334")
            return "334 <redacted>";
        in_sasl_ = false;
    }
    return std::string(line);
}

} // namespace postern::send
