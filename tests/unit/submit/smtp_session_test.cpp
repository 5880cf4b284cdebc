// SPDX-License-Identifier: ISC
// sendmail -bs: the SMTP dialogue on a pipe, into a real temporary spool.
#include "../common/test_util.h"
#include "common/io.h"
#include "common/privilege.h"
#include "submit/smtp_session.h"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <thread>

using namespace postern;
using namespace postern::submit;

namespace {

struct Dialogue {
    std::string replies;
    std::vector<std::string> ids;
};

Dialogue talk(const std::string& spool, const std::string& input)
{
    drop_group_init();
    Config cfg;
    cfg.queue.dir = spool;
    cfg.sender.domain = "example.org";
    MessageJob base;
    base.cfg = &cfg;
    base.caller = current_caller();
    base.from_addr = base.caller.user;
    int in[2], out[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
    std::thread writer([&] {
        (void)write_all(in[1], input, "pipe");
        ::close(in[1]);
    });
    Dialogue d;
    std::thread reader([&] {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(out[0], buf, sizeof buf)) > 0)
            d.replies.append(buf, static_cast<size_t>(n));
    });
    auto r = run_smtp_session(in[0], out[1], base);
    ::close(out[1]);
    writer.join();
    reader.join();
    ::close(in[0]);
    ::close(out[0]);
    REQUIRE(r.has_value());
    d.ids = *r;
    return d;
}

// The reply codes, one per reply (continuation lines skipped).
std::vector<std::string> codes(const std::string& replies)
{
    std::vector<std::string> out;
    size_t pos = 0;
    for (size_t eol; (eol = replies.find("\r\n", pos)) != std::string::npos; pos = eol + 2) {
        std::string line = replies.substr(pos, eol - pos);
        if (line.size() >= 4 && line[3] == ' ')
            out.push_back(line.substr(0, 3));
    }
    return out;
}

} // namespace

TEST_CASE("-bs: one transaction, dot-unstuffing, one drop file")
{
    test::TempDir tmp;
    auto d = talk(tmp.file("spool"), "EHLO me\r\nMAIL FROM:<a@x.org> BODY=8BITMIME\r\n"
                                     "RCPT TO:<root>\r\nDATA\r\nSubject: t\r\n\r\n..dot\r\n"
                                     "line\r\n.\r\nQUIT\r\n");
    CHECK(codes(d.replies) ==
          std::vector<std::string>{"220", "250", "250", "250", "354", "250", "221"});
    REQUIRE(d.ids.size() == 1);
    CHECK(d.replies.find("250 2.0.0 Ok: queued as " + d.ids[0]) != std::string::npos);
    auto text = read_file(AT_FDCWD, tmp.file("spool/incoming/" + d.ids[0]), 1 << 20);
    REQUIRE(text.has_value());
    CHECK(text->find("sender: a@x.org\n") != std::string::npos);
    CHECK(text->find("rcpt: root\n") != std::string::npos);
    CHECK(text->find("body: 8bitmime\n") != std::string::npos);
    CHECK(text->find("\r\n\r\n.dot\r\nline\r\n") != std::string::npos);
}

TEST_CASE("-bs: command errors")
{
    test::TempDir tmp;
    struct Case {
        const char* label;
        std::string input;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"RCPT before MAIL is 503", "RCPT TO:<a@x.org>\r\nQUIT\r\n", {"220", "503", "221"}},
        {"DATA before RCPT is 503",
         "MAIL FROM:<>\r\nDATA\r\nQUIT\r\n",
         {"220", "250", "503", "221"}},
        {"nested MAIL is 503", "MAIL FROM:<>\r\nMAIL FROM:<>\r\n", {"220", "250", "503"}},
        {"bad syntax is 501", "MAIL FROM: a@x.org\r\nHELO\r\n", {"220", "501", "501"}},
        {"unknown command is 500", "FROB\r\n", {"220", "500"}},
        {"VRFY is 252, NOOP/RSET 250, HELP 214",
         "VRFY root\r\nNOOP\r\nRSET\r\nHELP\r\n",
         {"220", "252", "250", "250", "214"}},
        {"an address with a leading - is refused",
         "MAIL FROM:<>\r\nRCPT TO:<-oQ/tmp>\r\n",
         {"220", "250", "501"}},
        {"an over-long line is 500",
         std::string(5000, 'x') + "\r\nNOOP\r\n",
         {"220", "500", "250"}},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            auto d = talk(tmp.file("spool"), c.input);
            CHECK(codes(d.replies) == c.want);
            CHECK(d.ids.empty());
        }
    }
}

TEST_CASE("-bs: a refused message is drained, the session goes on")
{
    test::TempDir tmp;
    auto d = talk(tmp.file("spool"),
                  "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nFrom: a@x.org\r\n"
                  "From: b@y.org\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\n"
                  "DATA\r\nSubject: ok\r\n\r\nfine\r\n.\r\nQUIT\r\n");
    CHECK(codes(d.replies) == std::vector<std::string>{"220", "250", "250", "354", "554", "250",
                                                       "250", "354", "250", "221"});
    CHECK(d.ids.size() == 1);
}

TEST_CASE("-bs: end of input during DATA queues nothing")
{
    test::TempDir tmp;
    auto d = talk(tmp.file("spool"), "MAIL FROM:<>\r\nRCPT TO:<root>\r\nDATA\r\nSubject: cut\r\n");
    CHECK(d.ids.empty());
    DIR* dir = ::opendir(tmp.file("spool/incoming").c_str());
    int files = 0;
    if (dir) {
        while (auto* e = ::readdir(dir))
            files += e->d_name[0] != '.' || std::string(e->d_name).size() > 2;
        ::closedir(dir);
    }
    CHECK(files == 0);
}
