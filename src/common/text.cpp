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

std::vector<std::string> split_words(const std::string& s)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : s + " ") {
        if (c == ' ' || c == '\t') {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

} // namespace postern
