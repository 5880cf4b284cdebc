// SPDX-License-Identifier: ISC
// Canonical message form, dots, long lines, NUL and quoted-printable
// (docs/DESIGN.md "Canonical message form", SPEC "Dots").
#include "submit/body.h"

#include <doctest/doctest.h>

#include <sysexits.h>
#include <unistd.h>

#include <thread>

using namespace postern;
using namespace postern::submit;

namespace {

class StringSink : public Sink {
  public:
    Status write(std::string_view d) override
    {
        out.append(d);
        return {};
    }
    std::string out;
};

// Feeds input through a pipe (a writer thread, so large inputs do not
// block) and returns what the source yields, written by a BodyWriter.
std::string canonical(const std::string& input, bool dot_ends, BodyStats* stats = nullptr,
                      bool opaque = false, Status* status = nullptr)
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::thread writer([&] {
        size_t off = 0;
        while (off < input.size()) {
            ssize_t n = ::write(p[1], input.data() + off, input.size() - off);
            if (n <= 0)
                break;
            off += static_cast<size_t>(n);
        }
        ::close(p[1]);
    });
    InputReader in(p[0]);
    StdinSource src(in, dot_ends);
    StringSink sink;
    BodyWriter w(sink, opaque);
    std::string piece;
    bool eol = false;
    Status st;
    for (;;) {
        auto r = src.next(piece, eol);
        REQUIRE(r.has_value());
        if (!*r)
            break;
        st = w.put(piece, eol);
        if (!st)
            break;
    }
    if (st)
        st = w.finish();
    // Drain so the writer thread can finish.
    char buf[4096];
    while (::read(p[0], buf, sizeof buf) > 0) {
    }
    writer.join();
    ::close(p[0]);
    if (stats)
        *stats = w.stats();
    if (status)
        *status = st;
    return sink.out;
}

std::string qp(const std::string& canon)
{
    StringSink sink;
    QpEncoder e(sink);
    // Odd-sized pieces: the encoder must not care where pieces end.
    for (size_t i = 0; i < canon.size(); i += 7)
        REQUIRE(e.feed(std::string_view(canon).substr(i, 7)));
    REQUIRE(e.finish());
    return sink.out;
}

} // namespace

TEST_CASE("canonical form: CRLF everywhere, ending in CRLF")
{
    struct Case {
        const char* label;
        std::string in, want;
    };
    const Case cases[] = {
        {"bare LF input is accepted", "a\nb\n", "a\r\nb\r\n"},
        {"CRLF input is not doubled", "a\r\nb\r\n", "a\r\nb\r\n"},
        {"mixed CRLF/LF", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n"},
        {"bare CR becomes a space", "a\rb\r\n", "a b\r\n"},
        {"\\r.\\r\\n smuggling cannot make a lone dot line", "x\r.\r\n", "x .\r\n"},
        {"missing final newline gets CRLF", "a\nlast", "a\r\nlast\r\n"},
        {"CR at the very end", "a\r", "a \r\n"},
        {"empty input stays empty", "", ""},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(canonical(c.in, false) == c.want); }
    }
}

TEST_CASE("dots: a lone . ends the message only for a person typing")
{
    SUBCASE("without -i on a terminal, a lone . ends the message")
    {
        CHECK(canonical("a\n.\nb\n", true) == "a\r\n");
    }
    SUBCASE("not a terminal (or -i): a lone . is data")
    {
        CHECK(canonical("a\n.\nb\n", false) == "a\r\n.\r\nb\r\n");
    }
    SUBCASE("a line starting with . is always data")
    {
        CHECK(canonical("..x\n.y\n", true) == "..x\r\n.y\r\n");
    }
}

TEST_CASE("what the body holds: 8-bit, NUL, long lines")
{
    BodyStats s;
    canonical("plain ascii\n", false, &s);
    CHECK_FALSE(s.eight_bit);
    CHECK_FALSE(s.nul);
    CHECK_FALSE(s.long_line);
    canonical("caf\xc3\xa9\n", false, &s);
    CHECK(s.eight_bit);
    canonical(std::string("a\0b\n", 4), false, &s);
    CHECK(s.nul);
    canonical(std::string(998, 'x') + "\n", false, &s);
    CHECK_FALSE(s.long_line);
    canonical(std::string(999, 'x') + "\n", false, &s);
    CHECK(s.long_line);
    SUBCASE("a 200 KB line without line end streams through in pieces")
    {
        std::string out = canonical(std::string(200000, 'y'), false, &s);
        CHECK(out == std::string(200000, 'y') + "\r\n");
        CHECK(s.long_line);
    }
}

TEST_CASE("opaque (multipart) bodies: lines over 998 broken, NUL refused")
{
    std::string out = canonical(std::string(2500, 'z') + "\n", false, nullptr, true);
    CHECK(out == std::string(998, 'z') + "\r\n " + std::string(997, 'z') + "\r\n " +
                     std::string(505, 'z') + "\r\n");
    Status st;
    canonical(std::string("a\0b\n", 4), false, nullptr, true, &st);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == EX_DATAERR);
    CHECK(st.error().text.find("NUL") != std::string::npos);
}

TEST_CASE("quoted-printable (RFC 2045 6.7)")
{
    struct Case {
        const char* label;
        std::string in, want;
    };
    const Case cases[] = {
        {"ASCII stays", "hello world\r\n", "hello world\r\n"},
        {"8-bit and = are encoded", "caf\xc3\xa9 =\r\n", "caf=C3=A9 =3D\r\n"},
        {"NUL is encoded", std::string("a\0b\r\n", 5), "a=00b\r\n"},
        {"white space before a line end is encoded", "a \r\nb\t\r\n", "a=20\r\nb=09\r\n"},
        {"long lines get soft breaks", std::string(100, 'q') + "\r\n",
         std::string(75, 'q') + "=\r\n" + std::string(25, 'q') + "\r\n"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(qp(c.in) == c.want); }
    }
    SUBCASE("no output line exceeds 76 octets")
    {
        std::string in;
        for (int i = 0; i < 500; ++i)
            in += "\xe2\x82\xac=";
        std::string out = qp(in + "\r\n");
        size_t pos = 0;
        for (size_t eol; (eol = out.find("\r\n", pos)) != std::string::npos; pos = eol + 2)
            CHECK(eol - pos <= 76);
    }
}
