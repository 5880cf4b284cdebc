// SPDX-License-Identifier: ISC
// mboxrd conversion fed in arbitrary chunks: the output must hold no
// unquoted "From " line (a reader would split the message there) and must
// not depend on how the input was chunked.
#include "deliver/format.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using postern::deliver::LineConverter;

static std::string convert(std::string_view in, size_t chunk)
{
    LineConverter c(true);
    std::string out;
    for (size_t i = 0; i < in.size(); i += chunk)
        c.add(in.substr(i, chunk), out);
    c.finish(out);
    return out;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 17;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string whole = convert(in, in.size() ? in.size() : 1);
    std::string parts = convert(in, chunk);
    if (whole != parts)
        std::abort();
    if (whole.compare(0, 5, "From ") == 0 || whole.find("\nFrom ") != std::string::npos)
        std::abort();
    // Every message ends with a newline plus the blank separator line
    // (an empty message is just the separator).
    if (!in.empty() && (whole.size() < 2 || whole.compare(whole.size() - 2, 2, "\n\n") != 0))
        std::abort();
    (void)postern::deliver::needs_from_quote(in);
    return 0;
}
