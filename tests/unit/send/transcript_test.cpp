// SPDX-License-Identifier: ISC
#include "send/transcript.h"

#include <doctest/doctest.h>

using namespace postern::send;

TEST_CASE("transcript: AUTH data is masked (SPEC: secrets never in -v)")
{
    Redactor r;
    SUBCASE("AUTH PLAIN with initial response")
    {
        CHECK(r.client("AUTH PLAIN AGFsZXJ0cwBzM2NyZXQ=\r\n") == "AUTH PLAIN <redacted>");
        CHECK(r.server("235 2.7.0 ok\r\n") == "235 2.7.0 ok");
        CHECK(r.client("MAIL FROM:<a@b>\r\n") == "MAIL FROM:<a@b>");
    }
    SUBCASE("AUTH LOGIN: every line after a 334 is secret")
    {
        CHECK(r.client("AUTH LOGIN\r\n") == "AUTH LOGIN");
        CHECK(r.server("334 VXNlcm5hbWU6\r\n") == "334 <redacted>");
        CHECK(r.client("YWxlcnRz\r\n") == "<redacted>");
        CHECK(r.server("334 UGFzc3dvcmQ6\r\n") == "334 <redacted>");
        CHECK(r.client("czNjcmV0\r\n") == "<redacted>");
        CHECK(r.server("535 5.7.8 no\r\n") == "535 5.7.8 no");
        CHECK(r.client("QUIT\r\n") == "QUIT");
    }
    SUBCASE("XOAUTH2 error challenge and the empty answer")
    {
        CHECK(r.client("AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==\r\n") ==
              "AUTH XOAUTH2 <redacted>");
        CHECK(r.server("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n") == "334 <redacted>");
        CHECK(r.client("\r\n") == "<redacted>");
    }
    SUBCASE("lower-case auth is masked too")
    {
        CHECK(r.client("auth plain c2VjcmV0\r\n") == "AUTH plain <redacted>");
    }
}
