// SPDX-License-Identifier: ISC
// The header section fix-ups: input lines become fields the way the
// submission pipeline splits them, then fix_headers + format_headers.
// The output must be CRLF-terminated lines of at most 998 octets.
#include "common/config.h"
#include "submit/headers.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace postern::submit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static postern::Config cfg;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    bool extract = size > 0 && (data[0] & 1);
    std::vector<Header> headers;
    size_t pos = 0;
    while (pos < in.size()) {
        size_t nl = in.find('\n', pos);
        std::string_view line =
            in.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? in.size() : nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            break;
        if (!check_header_line(line))
            return 0;
        if ((line[0] == ' ' || line[0] == '\t') && !headers.empty()) {
            headers.back().raw += "\r\n";
            headers.back().raw += line;
        } else if (is_header_start(line)) {
            Header h;
            h.name = std::string(line.substr(0, line.find(':')));
            h.raw = std::string(line);
            headers.push_back(std::move(h));
        } else {
            break;
        }
    }
    FixupContext ctx;
    ctx.cfg = &cfg;
    ctx.domain = "example.org";
    ctx.hostname = "host.example.org";
    ctx.queue_id = "0123456789ABCDEF01234567";
    ctx.now = 1700000000;
    ctx.user = "alice";
    ctx.fullname = "Alice Example";
    ctx.from_addr = "alice";
    ctx.extract = extract;
    std::vector<std::string> rcpts;
    if (!fix_headers(headers, ctx, rcpts))
        return 0;
    (void)mime_info(headers);
    if (size > 1 && (data[1] & 1))
        set_quoted_printable(headers);
    std::string out = format_headers(headers);
    // Canonical: CRLF line ends, no bare CR or LF, lines <= 998 octets.
    size_t start = 0;
    while (start < out.size()) {
        size_t crlf = out.find("\r\n", start);
        if (crlf == std::string::npos)
            std::abort();
        std::string_view l(out.data() + start, crlf - start);
        if (l.find('\n') != std::string_view::npos || l.find('\r') != std::string_view::npos)
            std::abort();
        if (l.size() > 998)
            std::abort();
        start = crlf + 2;
    }
    (void)make_phrase(in.substr(0, 200));
    return 0;
}
