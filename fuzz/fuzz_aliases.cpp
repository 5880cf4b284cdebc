// SPDX-License-Identifier: ISC
// aliases(5) parsing (trusted and untrusted) and target splitting.
#include "common/aliases.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    bool trusted = size > 0 && (data[0] & 1);
    auto a = postern::Aliases::parse(in, "fuzz-aliases", trusted);
    if (a)
        (void)a->find("root");
    (void)postern::split_alias_targets(in, "fuzz:1");
    return 0;
}
