// SPDX-License-Identifier: ISC
// RFC 5322 address lists (-t, qualification): spans must lie inside the
// value and be ordered.
#include "submit/address_list.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = postern::submit::parse_address_list(in);
    if (!r)
        return 0;
    for (const auto& m : *r) {
        if (m.begin > m.end || m.end > size || m.unit_begin > m.unit_end || m.unit_end > size ||
            m.begin < m.unit_begin || m.end > m.unit_end)
            std::abort();
        if (m.addr.empty())
            std::abort(); // empty addresses are documented as skipped
    }
    return 0;
}
