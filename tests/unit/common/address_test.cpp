// SPDX-License-Identifier: ISC
#include "common/address.h"
#include "common/text.h"

#include <doctest/doctest.h>

using namespace postern;

TEST_CASE("address: check_address (SPEC: controls refused at submission)")
{
    struct Case {
        const char* label;
        std::string addr;
        int code; // 0 = accepted
    } cases[] = {
        {"bare name", "root", 0},
        {"plain", "alice@example.com", 0},
        {"quoted local part", "\"a b\"@example.com", 0},
        {"plus", "a+tag@example.com", 0},
        {"CR LF injection", "a@example.com\r\nRCPT TO:<evil@x>", EX_DATAERR},
        {"NUL", std::string("a\0b@x", 5), EX_DATAERR},
        {"tab", "a\tb@x", EX_DATAERR},
        {"DEL", "a\x7f@x", EX_DATAERR},
        {"empty", "", EX_NOUSER},
        {"leading dash", "-oQ/tmp@x", EX_NOUSER},
        {"space", "a b@x", EX_NOUSER},
        {"angle", "<a@x>", EX_NOUSER},
        {"65-octet local part", std::string(65, 'a') + "@x", EX_NOUSER},
        {"64-octet local part", std::string(64, 'a') + "@x", 0},
        {"unbalanced quote", "\"a@x", EX_NOUSER},
        {"empty domain", "a@", EX_NOUSER},
        {"double dot domain", "a@x..y", EX_NOUSER},
        {"two unquoted @ (fuzzing)", "a@b@example.com", EX_NOUSER},
        {"quoted @ in the local part", "\"a@b\"@example.com", 0},
        {"invalid UTF-8 (fuzzing)", "u\xc3@example.com", EX_DATAERR},
        {"UTF-8 surrogate", "u\xed\xa0\x80@example.com", EX_DATAERR},
        {"valid UTF-8", "j\xc3\xb6rg@example.com", 0},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            Status st = check_address(c.addr, "recipient");
            if (c.code == 0) {
                CHECK_MESSAGE(st.has_value(), st.error().text);
            } else {
                REQUIRE_FALSE(st);
                CHECK(st.error().code == c.code);
                CHECK(st.error().text.find("recipient") == 0);
                // The text is printable: no raw control byte reaches a log.
                for (char ch : st.error().text)
                    CHECK(static_cast<unsigned char>(ch) >= 0x20);
                CHECK(valid_utf8(st.error().text));
            }
        }
    }
}

TEST_CASE("address: routing (SPEC: bare names and local domains are local)")
{
    Config cfg;
    cfg.local.domains = {"localhost", "box.example"};
    CHECK(route_of("root", cfg) == Route::Local);
    CHECK(route_of("root@localhost", cfg) == Route::Local);
    CHECK(route_of("root@BOX.example", cfg) == Route::Local);
    CHECK(route_of("root@" + local_hostname(), cfg) == Route::Local);
    CHECK(route_of("a@example.com", cfg) == Route::Relay);
    cfg.sender.domain = "example.com"; // [sender] domain is not local unless listed
    CHECK(route_of("a@example.com", cfg) == Route::Relay);
    CHECK(route_of("\"x@y\"@example.com", cfg) == Route::Relay);
    CHECK(local_part("\"x@y\"@example.com") == "\"x@y\"");
}

TEST_CASE("address: qualify only bare names")
{
    CHECK(qualify("root", "example.com") == "root@example.com");
    CHECK(qualify("a@b", "example.com") == "a@b");
    CHECK(qualify("", "example.com") == "");
}
