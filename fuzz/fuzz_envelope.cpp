// SPDX-License-Identifier: ISC
// The drop header and queue envelope parsers, and the format -> parse
// round trip of whatever parsed.
#include "common/envelope.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto d = postern::parse_drop_header(in, "fuzz")) {
        if (d->offset < 0 || static_cast<size_t>(d->offset) > size)
            std::abort(); // the message must start inside the data
        if (auto text = postern::format_drop_header(*d)) {
            auto again = postern::parse_drop_header(*text, "fuzz2");
            if (!again || again->rcpts.size() != d->rcpts.size() || again->sender != d->sender)
                std::abort();
        }
    }
    if (auto e = postern::parse_envelope(in, "fuzz")) {
        if (auto text = postern::format_envelope(*e)) {
            auto again = postern::parse_envelope(*text, "fuzz2");
            if (!again || again->rcpts.size() != e->rcpts.size())
                std::abort();
            for (size_t i = 0; i < e->rcpts.size(); ++i)
                if (again->rcpts[i].address != e->rcpts[i].address ||
                    again->rcpts[i].state != e->rcpts[i].state)
                    std::abort();
        }
    }
    return 0;
}
