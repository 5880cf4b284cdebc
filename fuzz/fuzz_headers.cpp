// SPDX-License-Identifier: ISC
// The header section fix-ups: input lines become fields the way the
// submission pipeline splits them, then fix_headers + format_headers.
// Whatever bytes came in, the output must be a 7-bit header section that
// parses: CRLF-terminated lines of at most 998 octets, every byte
// printable ASCII or TAB (no NUL, no bare CR or LF), each line a field
// ("name: value", a printable name) or a continuation, then the empty
// line; every encoded-word at most 75 octets.
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
    size_t start = 0;
    bool ended = false;
    while (start < out.size()) {
        size_t crlf = out.find("\r\n", start);
        if (crlf == std::string::npos || ended)
            std::abort(); // no CRLF at the end, or bytes after the empty line
        std::string_view l(out.data() + start, crlf - start);
        if (l.size() > 998)
            std::abort();
        for (unsigned char c : l)
            if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f)
                std::abort(); // 8-bit, NUL, a control, a bare CR or LF
        if (l.empty()) {
            ended = true;
        } else if (l[0] != ' ' && l[0] != '\t') {
            size_t colon = l.find(':');
            if (colon == std::string_view::npos || colon == 0)
                std::abort(); // neither a field nor a continuation
            for (size_t i = 0; i < colon; ++i)
                if (l[i] <= 32 || l[i] >= 127)
                    std::abort();
        } else if (start == 0) {
            std::abort(); // a continuation with no field before it
        }
        // (Only ours: an encoded-word the caller wrote is kept as it is.)
        bool ours = in.find("=?") == std::string_view::npos;
        for (size_t w = 0; ours && (w = l.find("=?UTF-8?B?", w)) != std::string_view::npos; ++w) {
            size_t end = l.find("?=", w + 10);
            if (end == std::string_view::npos || end + 2 - w > 75)
                std::abort(); // an encoded-word is never split or too long
        }
        start = crlf + 2;
    }
    if (!ended)
        std::abort();
    std::string phrase = make_phrase(in.substr(0, 200));
    for (unsigned char c : phrase)
        if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f)
            std::abort();
    return 0;
}
