// SPDX-License-Identifier: ISC
#include "submit/address_list.h"

#include <sysexits.h>

namespace postern::submit {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

} // namespace

size_t skip_comment(std::string_view v, size_t i)
{
    int depth = 0;
    for (; i < v.size(); ++i) {
        char c = v[i];
        if (c == '\\') {
            ++i;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return std::string_view::npos;
}

size_t skip_quoted(std::string_view v, size_t i)
{
    for (++i; i < v.size(); ++i) {
        if (v[i] == '\\')
            ++i;
        else if (v[i] == '"')
            return i + 1;
    }
    return std::string_view::npos;
}

namespace {

// The addr-spec in v[b, e): comments and white space removed.
std::string clean_addr(std::string_view v, size_t b, size_t e)
{
    std::string out;
    for (size_t i = b; i < e;) {
        char c = v[i];
        if (c == '(') {
            size_t n = skip_comment(v, i);
            i = n == std::string_view::npos ? e : n;
        } else if (c == '"') {
            size_t n = skip_quoted(v, i);
            n = n == std::string_view::npos ? e : n;
            out.append(v.substr(i, n - i));
            i = n;
        } else {
            if (!is_space(c))
                out += c;
            ++i;
        }
    }
    return out;
}

std::string trim(std::string_view s)
{
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b]))
        ++b;
    while (e > b && is_space(s[e - 1]))
        --e;
    return std::string(s.substr(b, e - b));
}

// Builds the mailbox for the unit v[b, e) (no top-level ',' ':' ';').
Result<bool> parse_unit(std::string_view v, size_t b, size_t e, Mailbox& m)
{
    size_t lt = std::string_view::npos, gt = std::string_view::npos;
    size_t first = std::string_view::npos, last = b; // addr-spec form span
    for (size_t i = b; i < e;) {
        char c = v[i];
        if (c == '(') {
            size_t n = skip_comment(v, i);
            if (n == std::string_view::npos || n > e)
                return fail(EX_DATAERR, "unbalanced comment");
            if (m.comment.empty() && n - i >= 2)
                m.comment = trim(v.substr(i + 1, n - i - 2));
            i = n;
            continue;
        }
        if (c == '"') {
            size_t n = skip_quoted(v, i);
            if (n == std::string_view::npos || n > e)
                return fail(EX_DATAERR, "unbalanced quote");
            if (first == std::string_view::npos)
                first = i;
            last = n;
            i = n;
            continue;
        }
        if (c == '<' && lt == std::string_view::npos) {
            lt = i;
        } else if (c == '>' && lt != std::string_view::npos && gt == std::string_view::npos) {
            gt = i;
        } else if (!is_space(c)) {
            if (first == std::string_view::npos)
                first = i;
            last = i + 1;
        }
        ++i;
    }
    if ((lt == std::string_view::npos) != (gt == std::string_view::npos))
        return fail(EX_DATAERR, "unbalanced angle bracket");
    size_t ub = b, ue = e;
    while (ub < ue && is_space(v[ub]))
        ++ub;
    while (ue > ub && is_space(v[ue - 1]))
        --ue;
    m.unit_begin = ub;
    m.unit_end = ue;
    if (lt != std::string_view::npos) {
        m.angle = true;
        m.display = trim(v.substr(b, lt - b));
        m.comment.clear();
        size_t ab = lt + 1, ae = gt;
        while (ab < ae && is_space(v[ab]))
            ++ab;
        while (ae > ab && is_space(v[ae - 1]))
            --ae;
        m.begin = ab;
        m.end = ae;
        m.addr = clean_addr(v, ab, ae);
    } else {
        if (first == std::string_view::npos)
            return false;
        m.begin = first;
        m.end = last;
        m.addr = clean_addr(v, first, last);
    }
    return !m.addr.empty();
}

} // namespace

Result<std::vector<Mailbox>> parse_address_list(std::string_view v)
{
    std::vector<Mailbox> out;
    size_t unit = 0;
    bool in_angle = false;
    auto close_unit = [&](size_t end) -> Status {
        Mailbox m;
        auto r = parse_unit(v, unit, end, m);
        if (!r)
            return r.error();
        if (*r)
            out.push_back(std::move(m));
        return {};
    };
    for (size_t i = 0; i < v.size();) {
        char c = v[i];
        if (c == '(' || c == '"') {
            size_t n = c == '(' ? skip_comment(v, i) : skip_quoted(v, i);
            if (n == std::string_view::npos)
                return fail(EX_DATAERR, c == '(' ? "unbalanced comment" : "unbalanced quote");
            i = n;
            continue;
        }
        if (c == '<')
            in_angle = true;
        else if (c == '>')
            in_angle = false;
        else if (!in_angle && c == ':') {
            // A group's display name ends here: it is not an address.
            unit = i + 1;
        } else if (!in_angle && (c == ',' || c == ';')) {
            Status st = close_unit(i);
            if (!st)
                return st.error();
            unit = i + 1;
        }
        ++i;
    }
    if (in_angle)
        return fail(EX_DATAERR, "unbalanced angle bracket");
    Status st = close_unit(v.size());
    if (!st)
        return st.error();
    return out;
}

} // namespace postern::submit
