// SPDX-License-Identifier: ISC
// load_config() on arbitrary file contents.
#include "common/config.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static std::string path = [] {
        char tmpl[] = "/tmp/postern-fuzz-config-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd >= 0)
            ::close(fd);
        return std::string(tmpl);
    }();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    auto c = postern::load_config(path);
    if (c) {
        // Whatever loaded must be usable by the helpers that read it.
        (void)c->relay.effective_port();
        (void)c->where("relay.host");
    }
    return 0;
}
