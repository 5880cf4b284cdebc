// SPDX-License-Identifier: ISC
#include "common/text.h"

namespace postern {

std::string rfc5322_date(time_t t)
{
    struct tm tm;
    ::localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %z", &tm);
    return buf;
}

std::string one_line(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    return out;
}

std::vector<std::string> split_words(const std::string& s, std::string_view separators)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (separators.find(c) != std::string_view::npos) {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

bool valid_utf8(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
        unsigned char c = b(0);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t n = 0;
        unsigned char lo = 0x80, hi = 0xbf; // range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0; // no overlong forms
            if (c == 0xed)
                hi = 0x9f; // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f; // nothing above U+10FFFF
        } else {
            return false;
        }
        if (i + n > s.size() || b(1) < lo || b(1) > hi)
            return false;
        for (size_t k = 2; k < n; ++k)
            if ((b(k) & 0xc0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

} // namespace postern
